import { createInterface } from 'node:readline';
import type { CliIo, InputStream } from './io.js';
import { UsageError } from './errors.js';

type RawInput = InputStream & { setRawMode?: (raw: boolean) => unknown };

/**
 * A password for `login` without `-p`: asked on a terminal with nothing echoed, or read as the first
 * line of stdin when stdin is not a terminal (`echo "$PASSWORD" | slipway login ...`).
 */
export async function readPassword(io: CliIo, command: string): Promise<string> {
  const input = io.stdin as RawInput | undefined;
  if (!input) throw new UsageError('no password: pass -p PASSWORD, or pipe it on stdin', command);
  const password = input.isTTY ? await askHidden(io, input) : await firstLine(input);
  if (!password)
    throw new UsageError('no password given: type it at the prompt, pipe it on stdin, or pass -p PASSWORD', command);
  return password;
}

function firstLine(input: InputStream): Promise<string> {
  const rl = createInterface({ input, terminal: false });
  return new Promise<string>((resolve) => {
    rl.once('line', (line) => {
      resolve(line.replace(/\r$/, ''));
      rl.close();
    });
    rl.once('close', () => resolve(''));
  });
}

/** Reads keystrokes in raw mode so the terminal echoes nothing; Enter ends, Backspace erases, Ctrl-C gives up. */
function askHidden(io: CliIo, input: RawInput): Promise<string> {
  io.stderr.write('Password: ');
  input.setRawMode?.(true);
  input.resume();
  return new Promise<string>((resolve) => {
    let typed = '';
    const done = (value: string) => {
      input.off('data', onData);
      input.setRawMode?.(false);
      input.pause();
      io.stderr.write('\n');
      resolve(value);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done(typed);
        if (ch === '\u0003' || ch === '\u0004') return done('');
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    input.on('data', onData);
  });
}
