import type { Logger } from '@slipway/contracts';

/** A logger that keeps lines in memory; tests read `lines` when something went wrong. */
export interface QuietLogger extends Logger {
  /** Lines logged through this logger or its children, oldest first (the newest `maxLines`). */
  readonly lines: string[];
}

/**
 * Collects log lines instead of printing them, so test output stays readable. With `DEBUG=slipway` (or
 * `DEBUG=*`) in the environment it prints them to stderr as well.
 */
export function createQuietLogger(options: { print?: boolean; maxLines?: number } = {}): QuietLogger {
  const print = options.print ?? debugEnabled();
  const lines: string[] = [];
  // Bounded: a sandbox's simulated agents log for as long as the control plane runs.
  return build(lines, print, options.maxLines ?? 2_000, {});
}

function build(lines: string[], print: boolean, maxLines: number, base: Record<string, unknown>): QuietLogger {
  const log =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      const all = { ...base, ...fields };
      const line = `${level} ${message}${Object.keys(all).length > 0 ? ` ${JSON.stringify(all)}` : ''}`;
      lines.push(line);
      if (lines.length > maxLines) lines.splice(0, lines.length - maxLines);
      if (print) process.stderr.write(`${line}\n`);
    };
  return {
    lines,
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: (fields) => build(lines, print, maxLines, { ...base, ...fields }),
  };
}

function debugEnabled(): boolean {
  const value = process.env.DEBUG ?? '';
  return value.split(',').some((part) => ['slipway', 'slipway:*', '*'].includes(part.trim()));
}
