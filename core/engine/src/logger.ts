import type { Logger } from '@slipway/contracts';

type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** One JSON line per record (or a short human line), to a sink; children carry fields. */
export class LineLogger implements Logger {
  constructor(
    private readonly sink: (line: string) => void,
    private readonly minLevel: Level = 'info',
    private readonly fields: Record<string, unknown> = {},
    private readonly format: 'json' | 'text' = 'text',
  ) {}

  debug(message: string, fields?: Record<string, unknown>): void {
    this.write('debug', message, fields);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.write('info', message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.write('warn', message, fields);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.write('error', message, fields);
  }

  child(fields: Record<string, unknown>): Logger {
    return new LineLogger(this.sink, this.minLevel, { ...this.fields, ...fields }, this.format);
  }

  private write(level: Level, message: string, fields?: Record<string, unknown>): void {
    if (ORDER[level] < ORDER[this.minLevel]) return;
    const all = { ...this.fields, ...fields };
    if (this.format === 'json') {
      this.sink(JSON.stringify({ at: new Date().toISOString(), level, message, ...all }));
      return;
    }
    const extra = Object.entries(all)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    this.sink(`${level.padEnd(5)} ${message}${extra ? ` ${extra}` : ''}`);
  }
}

export const silentLogger: Logger = new LineLogger(() => {}, 'error');
