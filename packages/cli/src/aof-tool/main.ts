import { Command } from 'commander';
import { runProgram } from '../common/run.js';
import { addExamples } from '../common/examples.js';
import { registerCommands, type Commands } from '../common/lazy.js';

const COMMANDS: Commands = {
  check: async () => (await import('./check.js')).registerCheck,
  fix: async () => (await import('./fix.js')).registerFix,
  strip: async () => (await import('./strip.js')).registerStrip,
  filter: async () => (await import('./filter.js')).registerFilter,
  cat: async () => (await import('./cat.js')).registerCat,
  stats: async () => (await import('./stats.js')).registerStats,
  rewrite: async () => (await import('./rewrite.js')).registerRewrite,
  'to-rdb': async () => (await import('./to-rdb.js')).registerToRdb,
  follow: async () => (await import('./follow.js')).registerFollow,
};

/** The program; with `argv`, only the command it runs is loaded (see registerCommands). */
export async function buildAofTool(argv?: readonly string[]): Promise<Command> {
  const program = new Command('aof-tool')
    .description('Check, repair, filter and inspect Redis append-only files (AOF): single files, RDB-preamble files and Redis 7+ multi-part directories')
    .version('0.1.0');
  await registerCommands(program, COMMANDS, argv);
  addExamples(program); // after every register*: each command's --help ends with its examples
  return program;
}

export async function main(argv: string[]): Promise<number> {
  return runProgram(await buildAofTool(argv), argv);
}
