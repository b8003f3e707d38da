import type { CliIo } from './io.js';

/**
 * The real process as a CliIo. The first SIGINT/SIGTERM fires `signal` (so `up` stops cleanly and `--wait`
 * stops waiting); a second one ends the process at once. Listeners are added only when this is called.
 */
export function processIo(): CliIo {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (name: NodeJS.Signals) => {
    signals++;
    if (signals === 1) controller.abort(new Error(`received ${name}`));
    else process.exit(name === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
    signal: controller.signal,
  };
}
