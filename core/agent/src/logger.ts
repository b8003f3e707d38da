import type { Logger } from '@slipway/contracts';

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
type Level = (typeof LEVELS)[number];

/**
 * A logger writing one JSON object per line, the format a VM's journal ships on. Used when the agent is
 * given none.
 */
export function createJsonLogger(
  options: { minLevel?: Level; write?: (line: string) => void; fields?: Record<string, unknown> } = {},
): Logger {
  const minLevel = options.minLevel ?? 'info';
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const base = options.fields ?? {};
  const log =
    (level: Level) =>
    (message: string, fields?: Record<string, unknown>): void => {
      if (LEVELS.indexOf(level) < LEVELS.indexOf(minLevel)) return;
      write(JSON.stringify({ time: new Date().toISOString(), level, message, ...base, ...fields }));
    };
  return {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: (fields) => createJsonLogger({ minLevel, write, fields: { ...base, ...fields } }),
  };
}
