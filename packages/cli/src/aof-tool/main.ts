import { Command } from 'commander';
import { runProgram } from '../common/index.js';
import { addExamples } from '../common/examples.js';
import { registerCat } from './cat.js';
import { registerCheck } from './check.js';
import { registerFix } from './fix.js';
import { registerStats } from './stats.js';
import { registerStrip } from './strip.js';
import { registerRewrite } from './rewrite.js';
import { registerToRdb } from './to-rdb.js';
import { registerFollow } from './follow.js';

export function buildAofTool(): Command {
  const program = new Command('aof-tool')
    .description('Check, repair, filter and inspect Redis append-only files (AOF): single files, RDB-preamble files and Redis 7+ multi-part directories')
    .version('0.1.0');
  registerCheck(program);
  registerFix(program);
  registerStrip(program);
  registerCat(program);
  registerStats(program);
  registerRewrite(program);
  registerToRdb(program);
  registerFollow(program);
  addExamples(program); // after every register*: each command's --help ends with its examples
  return program;
}

export async function main(argv: string[]): Promise<number> {
  return runProgram(buildAofTool(), argv);
}
