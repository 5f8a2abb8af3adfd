import { Command } from 'commander';
import { runProgram } from '../common/index.js';
import { addExamples } from '../common/examples.js';
import { registerCheck } from './check.js';
import { registerDump } from './dump.js';
import { registerInfo } from './info.js';
import { registerConvert } from './convert.js';
import { registerToAof } from './to-aof.js';
import { registerInspectDir } from './inspect-dir.js';
import { registerRestore } from './restore.js';
import { registerSplit } from './split.js';
import { registerMerge } from './merge.js';
import { registerFetch } from './fetch.js';
import { registerMemory } from './memory-estimate.js';
import { registerExport } from './export.js';

export function buildRdbTool(): Command {
  const program = new Command('rdb-tool')
    .description('Inspect, verify and convert Redis RDB snapshot files')
    .version('0.1.0');
  // Commands register here (one file per command in this folder).
  registerCheck(program);
  registerInfo(program);
  registerDump(program);
  registerConvert(program);
  registerToAof(program);
  registerInspectDir(program);
  registerRestore(program);
  registerSplit(program);
  registerMerge(program);
  registerFetch(program);
  registerMemory(program);
  registerExport(program);
  addExamples(program); // after every register*: each command's --help ends with its examples
  return program;
}

export async function main(argv: string[]): Promise<number> {
  return runProgram(buildRdbTool(), argv);
}
