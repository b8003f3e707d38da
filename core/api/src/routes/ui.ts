import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { Hono } from 'hono';
import { SlipwayError } from '@slipway/contracts';
import type { AppEnv } from '../context.js';

interface Asset {
  type: string;
  body: Buffer;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
};

// The app's own scripts and styles only: no inline script, nothing from another origin, no framing.
const HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/**
 * Reads the built dashboard once, at start-up: `static/` as `/ui/*` and the compiled `dist/` as
 * `/ui/js/*`. Only files found then are served (a fixed map, so no path from a request ever reaches the
 * file system). Undefined when the package is absent or not built.
 */
export function loadDashboard(): Map<string, Asset> | undefined {
  let root: string;
  try {
    root = dirname(createRequire(import.meta.url).resolve('@slipway/dashboard/package.json'));
  } catch {
    return undefined;
  }
  if (!existsSync(join(root, 'dist', 'main.js'))) return undefined;
  const assets = new Map<string, Asset>();
  const add = (dir: string, prefix: string) => {
    for (const file of walk(dir)) {
      const ext = file.slice(file.lastIndexOf('.'));
      if (!TYPES[ext] || file.endsWith('.d.ts')) continue;
      assets.set(prefix + relative(dir, file).split(sep).join('/'), { type: TYPES[ext], body: readFileSync(file) });
    }
  };
  add(join(root, 'static'), '');
  add(join(root, 'dist'), 'js/');
  return assets;
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

/** GET /ui: the web dashboard, a single-page app that calls the same API with the user's bearer token. */
export function uiRoutes(assets: Map<string, Asset> | undefined) {
  const app = new Hono<AppEnv>();
  app.get('/ui', (c) => c.redirect('/ui/', 301));
  app.get('/ui/*', (c) => {
    if (!assets) {
      throw new SlipwayError('NotFound', 'the web dashboard is not built on this control plane', {
        hint: 'Run `npm run build` in the Slipway checkout, then restart `slipway up`.',
      });
    }
    const name = c.req.path.slice('/ui/'.length) || 'index.html';
    const asset = assets.get(name);
    if (!asset)
      throw new SlipwayError('NotFound', `no dashboard file ${name}`, { hint: 'Open /ui/ for the dashboard.' });
    return c.body(new Uint8Array(asset.body), 200, {
      ...HEADERS,
      'content-type': asset.type,
      'cache-control': name === 'index.html' ? 'no-cache' : 'max-age=300',
    });
  });
  return app;
}
