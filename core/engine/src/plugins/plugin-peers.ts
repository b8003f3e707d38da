import { register } from 'node:module';
import { createRequire } from 'node:module';
import { sep } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * The packages the plugin API promises a plugin, resolved to this Slipway's own copies: a plugin installed
 * in a `plugin_dirs` directory declares them as (optional) peer dependencies, and every module under that
 * directory that imports one gets Slipway's. So a plugin needs no hand-installed peer, and a `SlipwayError`
 * it throws is the very class the engine checks.
 */
export const PLUGIN_PEERS = ['@slipway/contracts'] as const;

/**
 * A module resolution hook (Node's `module.register`), inlined as a data: URL so it loads the same from
 * compiled code and from sources. It answers only for bare peer specifiers imported from inside its scope.
 */
const HOOK = `
let scope = ''; let peers = {};
export async function initialize(data) { scope = data.scope; peers = data.peers; }
export async function resolve(specifier, context, next) {
  const target = peers[specifier];
  if (target && context.parentURL && context.parentURL.startsWith(scope)) return { url: target, shortCircuit: true };
  return next(specifier, context);
}`;

const served = new Set<string>();

/** Makes every module under `dir` resolve the plugin API's packages to this Slipway's copies. Idempotent. */
export function providePluginPeers(dir: string): void {
  const scope = pathToFileURL(dir.endsWith(sep) ? dir : dir + sep).href;
  if (served.has(scope) || typeof register !== 'function') return;
  const require = createRequire(import.meta.url);
  const peers: Record<string, string> = {};
  for (const name of PLUGIN_PEERS) peers[name] = pathToFileURL(require.resolve(name)).href;
  register(`data:text/javascript,${encodeURIComponent(HOOK)}`, { data: { scope, peers } });
  served.add(scope);
}
