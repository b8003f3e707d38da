import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { UsageError } from './errors.js';
import type { CliIo } from './io.js';

/**
 * Reads secrets, one per prompt: on a terminal, each prompted on stderr with the typing not echoed;
 * otherwise one line of stdin each, so scripts pipe them in (`printf '%s\n' "$PW" | slipway users
 * set-password bob`) and they never appear in the process list or the shell history. One reader serves
 * every prompt, so no piped line is lost between them.
 */
export async function readSecrets(io: CliIo, prompts: string[], command: string): Promise<string[]> {
  if (!io.stdin)
    throw new UsageError(`${command} reads the password from a terminal or from stdin, and has neither`, command);
  const tty = Boolean(io.stdin.isTTY);
  const muted = new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  });
  const rl = createInterface({ input: io.stdin, output: tty ? muted : undefined, terminal: tty });
  const lines: string[] = [];
  const waiting: Array<(line: string | undefined) => void> = [];
  let closed = false;
  rl.on('line', (line) => (waiting.length ? waiting.shift()!(line) : lines.push(line)));
  rl.on('close', () => {
    closed = true;
    while (waiting.length) waiting.shift()!(undefined);
  });
  io.signal?.addEventListener('abort', () => rl.close(), { once: true });
  const next = () =>
    lines.length
      ? Promise.resolve<string | undefined>(lines.shift())
      : closed
        ? Promise.resolve(undefined)
        : new Promise<string | undefined>((r) => waiting.push(r));
  try {
    const answers: string[] = [];
    for (const prompt of prompts) {
      if (tty) io.stderr.write(prompt);
      const line = await next();
      if (tty) io.stderr.write('\n');
      if (line === undefined || line === '')
        throw new UsageError(`${command}: no password was given (type it, or pipe it on stdin)`, command);
      answers.push(line);
    }
    return answers;
  } finally {
    rl.close();
  }
}

/**
 * The current password (with `current`) and a new one: on a terminal the new one is asked twice (a typo
 * would lock the user out); from stdin each comes once, on its own line.
 */
export async function readPasswordChange(
  io: CliIo,
  options: { current?: string; next: string },
  command: string,
): Promise<{ current?: string; next: string }> {
  const tty = Boolean(io.stdin?.isTTY);
  const prompts = [...(options.current ? [options.current] : []), options.next, ...(tty ? ['Repeat it: '] : [])];
  const answers = await readSecrets(io, prompts, command);
  const current = options.current ? answers.shift() : undefined;
  const [next, again] = answers;
  if (tty && again !== next) throw new UsageError(`${command}: the two passwords differ; nothing was changed`, command);
  return { current, next };
}
