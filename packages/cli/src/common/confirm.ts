import { createInterface } from 'node:readline/promises';

/** Asks a yes/no question on the TTY; false when stdin is not a TTY. */
export async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N]: `);
    return /^y/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
