import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** This CLI's version, from its package.json (read once, on first use). */
export function cliVersion(): string {
  if (cached === undefined) {
    try {
      cached = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string })
        .version;
    } catch {
      cached = '0.0.0';
    }
  }
  return cached;
}
