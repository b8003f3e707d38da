import type { OutputStream } from '../io.js';

/** `--json`: the API's document, unchanged, indented for reading and for jq. */
export function printJson(out: OutputStream, value: unknown): void {
  out.write(`${JSON.stringify(value, null, 2)}\n`);
}
