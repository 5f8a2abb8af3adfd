#!/usr/bin/env node
import { main } from '../dist/rdb-tool/main.js';

process.exitCode = await main(process.argv.slice(2));
