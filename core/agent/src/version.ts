import { readFileSync } from 'node:fs';

/** Set by the bundler (scripts/bundle.mjs), which leaves no package.json beside the single file. */
declare const SLIPWAY_AGENT_VERSION: string | undefined;

/** This agent's version: the bundle's built-in one, else its package.json's. */
export function agentVersion(): string {
  if (typeof SLIPWAY_AGENT_VERSION === 'string') return SLIPWAY_AGENT_VERSION;
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string })
      .version;
  } catch {
    return '0.0.0';
  }
}
