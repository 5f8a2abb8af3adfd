import type { Command } from 'commander';

/** Registers one subcommand (its options, help and action) on the program. */
export type Register = (program: Command) => void;

/**
 * The subcommands of a program, each loaded only when needed: a run of one command imports that command's module
 * (and the libraries it uses) only. Loading every command of `rdb-tool` costs about 5 MB of RSS more than loading
 * `dump` alone (the live, cluster and analysis libraries), which a command held to 100 MiB cannot spare.
 */
export type Commands = Readonly<Record<string, () => Promise<Register>>>;

/**
 * Registers, in table order, the command `argv` runs when its first word names one exactly; else every command
 * (for the program's help, `help <cmd>`, a typo's suggestion).
 */
export async function registerCommands(program: Command, commands: Commands, argv?: readonly string[]): Promise<void> {
  const first = argv?.[0];
  const names = first !== undefined && Object.hasOwn(commands, first) ? [first] : Object.keys(commands);
  const registers = await Promise.all(names.map((n) => commands[n]!()));
  for (const register of registers) register(program);
}
