import { pino, type Logger as Pino } from 'pino';
import type { Logger } from '@slipway/contracts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * Where secrets can appear in a log line's fields, removed by path before the line is written: tokens,
 * passwords, private keys and Authorization headers, at the top level and one or two levels down.
 */
export const REDACTED_PATHS = [
  'password',
  'token',
  'access_token',
  'refresh_token',
  'bootstrap_token',
  'secret',
  'private_key',
  'privateKey',
  'key_pem',
  'authorization',
  '*.password',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.bootstrap_token',
  '*.secret',
  '*.private_key',
  '*.privateKey',
  '*.key_pem',
  '*.authorization',
  'headers.authorization',
  'headers.cookie',
  '*.headers.authorization',
  '*.headers.cookie',
];

/**
 * The `Logger` contract on pino: one JSON object a line (`at`, `level`, `message`, then the fields), secrets
 * redacted by path, children carrying their fields (task, cluster, instance, request ids).
 */
export class JsonLogger implements Logger {
  private constructor(private readonly pino: Pino) {}

  static create(
    sink: (line: string) => void,
    level: LogLevel = 'info',
    fields: Record<string, unknown> = {},
  ): JsonLogger {
    const destination = { write: (chunk: string) => sink(chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk) };
    return new JsonLogger(
      pino(
        {
          level,
          messageKey: 'message',
          base: fields,
          timestamp: () => `,"at":"${new Date().toISOString()}"`,
          formatters: { level: (label) => ({ level: label }) },
          redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
        },
        destination,
      ),
    );
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.pino.debug(fields ?? {}, message);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.pino.info(fields ?? {}, message);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.pino.warn(fields ?? {}, message);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.pino.error(fields ?? {}, message);
  }

  child(fields: Record<string, unknown>): Logger {
    return new JsonLogger(this.pino.child(fields));
  }
}
