import { Command } from 'commander';
import { runProgram } from '../common/run.js';
import { addExamples } from '../common/examples.js';
import { registerCommands, type Commands } from '../common/lazy.js';

const COMMANDS: Commands = {
  check: async () => (await import('./check.js')).registerCheck,
  info: async () => (await import('./info.js')).registerInfo,
  dump: async () => (await import('./dump.js')).registerDump,
  convert: async () => (await import('./convert.js')).registerConvert,
  'to-aof': async () => (await import('./to-aof.js')).registerToAof,
  'inspect-dir': async () => (await import('./inspect-dir.js')).registerInspectDir,
  restore: async () => (await import('./restore.js')).registerRestore,
  split: async () => (await import('./split.js')).registerSplit,
  merge: async () => (await import('./merge.js')).registerMerge,
  fetch: async () => (await import('./fetch.js')).registerFetch,
  memory: async () => (await import('./memory-estimate.js')).registerMemory,
  diff: async () => (await import('./diff.js')).registerDiff,
  export: async () => (await import('./export.js')).registerExport,
  report: async () => (await import('./report.js')).registerReport,
};

/** The program; with `argv`, only the command it runs is loaded (see registerCommands). */
export async function buildRdbTool(argv?: readonly string[]): Promise<Command> {
  const program = new Command('rdb-tool')
    .description('Inspect, verify and convert Redis RDB snapshot files')
    .version('0.1.0');
  await registerCommands(program, COMMANDS, argv);
  addExamples(program); // after every register*: each command's --help ends with its examples
  return program;
}

export async function main(argv: string[]): Promise<number> {
  return runProgram(await buildRdbTool(argv), argv);
}
