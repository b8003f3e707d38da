#!/usr/bin/env node
// Checked in, not built (see core/cli/bin/slipway.mjs): the bin exists before `prepare` compiles dist/.
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('slipway-agent is not built yet: run `npm run build` in the Slipway checkout\n');
  process.exit(1);
}
const { runAgentProgram } = await import(main.href);
runAgentProgram(process.argv.slice(2));
