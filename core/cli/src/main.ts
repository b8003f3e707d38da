#!/usr/bin/env node
import { runCli } from './cli.js';
import { processIo } from './process-io.js';

// The only module with side effects: run the CLI on this process and exit with its code.
const code = await runCli(process.argv.slice(2), processIo());
// Flush what is still buffered (pipes are asynchronous on some platforms), then exit even if a plugin
// left a timer behind: the exit code is final here.
await new Promise((resolve) => process.stdout.write('', resolve));
await new Promise((resolve) => process.stderr.write('', resolve));
process.exit(code);
