import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GENERATED_PAGES } from './docs/reference.js';

const root = fileURLToPath(new URL('..', import.meta.url));
// `npm run docs` sets this to rewrite the pages instead of only checking them.
const write = process.env.SLIPWAY_WRITE_DOCS === '1';

describe('generated reference pages are current', () => {
  for (const [page, render] of Object.entries(GENERATED_PAGES)) {
    it(`${page} matches the code (run \`npm run docs\` after changing it)`, () => {
      if (write) writeFileSync(`${root}${page}`, render());
      expect(readFileSync(`${root}${page}`, 'utf8')).toBe(render());
    });
  }
});
