import { createInterface } from 'node:readline';
import type { CliIo } from './io.js';

/** True when the user can be asked: both stdin and stdout are a terminal. */
export function canAsk(io: CliIo): boolean {
  return Boolean(io.stdin?.isTTY && io.stdout.isTTY);
}

/** Asks a yes/no question on the terminal; only `y` or `yes` is a yes. */
export async function confirm(io: CliIo, question: string): Promise<boolean> {
  if (!io.stdin) return false;
  const rl = createInterface({ input: io.stdin, terminal: false });
  io.stdout.write(`${question} (y/n): `);
  try {
    const answer = await new Promise<string>((resolve) => {
      rl.once('line', resolve);
      rl.once('close', () => resolve(''));
      io.signal?.addEventListener('abort', () => resolve(''), { once: true });
    });
    return /^(y|yes)$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
