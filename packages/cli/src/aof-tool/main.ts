import { Command } from 'commander';
import { runProgram } from '../common/index.js';

export function buildAofTool(): Command {
  const program = new Command('aof-tool')
    .description('Check, repair, filter and inspect Redis append-only files (AOF)')
    .version('0.1.0');
  // Commands register here (one file per command in this folder).
  return program;
}

export async function main(argv: string[]): Promise<number> {
  return runProgram(buildAofTool(), argv);
}
