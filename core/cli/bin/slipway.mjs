#!/usr/bin/env node
// Checked in, not built: npm links workspace bins at install time, before `prepare` compiles dist/, and
// silently skips a bin whose target is missing. This file always exists, so `npx slipway` always resolves.
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('slipway is not built yet: run `npm run build` (or `npm install`) in the Slipway checkout\n');
  process.exit(1);
}
await import(main.href);
