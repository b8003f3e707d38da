#!/usr/bin/env node
/**
 * Bundles the node agent into one ESM file that runs with nothing but Node 20:
 *
 *   node core/agent/scripts/bundle.mjs [OUT_FILE]      (default core/agent/dist/slipway-agent.mjs)
 *   node core/agent/scripts/bundle.mjs --cjs           (CommonJS, for a single executable application;
 *                                                       default core/agent/dist/slipway-agent.cjs)
 *
 * The entry is bundle/entry.ts: the agent program plus every in-repo cloud's metadata reader by name.
 * Workspace packages are read from their TypeScript sources (the `source` export condition), so no `tsc -b`
 * is needed first. The script prints the file's size and what went into it, and fails when a native addon,
 * a cloud SDK or a control-plane package (engine, kysely, better-sqlite3, tsyringe) would be inlined: the
 * agent reads metadata with plain fetch and must stay small and load on any image.
 */
import { chmod, mkdir, rm, stat } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const AGENT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REPO = resolve(AGENT, '../..');
const ENTRY = join(AGENT, 'bundle/entry.ts');

/** Packages that must never be in the agent, with why. Matched on the package name. */
const FORBIDDEN = [
  [/^@aws-sdk\/|^@smithy\/|^@aws-crypto\//, 'the AWS SDK (the agent reads IMDS with fetch)'],
  [/^@google-cloud\/|^google-gax$|^google-auth-library$|^gcp-metadata$|^protobufjs$|^@grpc\//, 'the Google Cloud SDK'],
  [/^@azure\//, 'the Azure SDK'],
  [/^better-sqlite3$|^kysely$/, "the control plane's store"],
  [
    /^tsyringe$|^reflect-metadata$/,
    "the control plane's DI container (the agent takes its dependencies in constructors)",
  ],
  [/^@slipway\/(engine|api|cli|testkit|pki|credentials-.*)$/, 'a control-plane package'],
  [/^hono$|^@hono\//, "the control plane's HTTP server"],
  [/^vitest$|^@vitest\//, 'the test runner'],
];

/**
 * Packages whose import alone does nothing: esbuild may drop them when nothing of theirs is used. undici is
 * CommonJS, which esbuild otherwise keeps whole (760 KiB) because `@slipway/iaas-vsphere/metadata` re-exports
 * `fetchTls` (the driver's and fake's TLS pool) beside the guestinfo reader the agent uses.
 */
const SIDE_EFFECT_FREE = new Set(['undici']);

/** Tells esbuild about SIDE_EFFECT_FREE; everything else resolves as usual. */
const sideEffectFree = {
  name: 'side-effect-free',
  setup(build) {
    const filter = new RegExp(`^(${[...SIDE_EFFECT_FREE].map((n) => n.replace(/[/.]/g, '\\$&')).join('|')})$`);
    build.onResolve({ filter }, async (args) => {
      if (args.pluginData === 'side-effect-free') return undefined;
      const resolved = await build.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: 'side-effect-free',
      });
      return resolved.errors.length
        ? { errors: resolved.errors }
        : { path: resolved.path, external: resolved.external, sideEffects: false };
    });
  },
};

/** Marks of a package with a native addon: it would need a compiler or prebuilt binaries for the image's CPU. */
const NATIVE_LOADERS = new Set(['bindings', 'node-gyp-build', 'node-addon-api', 'prebuild-install', 'nan']);

/** `[OUT_FILE] [--cjs]`: `--cjs` writes CommonJS, which a Node 20 single executable application needs as its main script. */
function parseArguments(argv) {
  const cjs = argv.includes('--cjs');
  const unknown = argv.find((a) => a.startsWith('-') && a !== '--cjs');
  if (unknown) fail(`unknown option ${unknown}; usage: node core/agent/scripts/bundle.mjs [OUT_FILE] [--cjs]`);
  const given = argv.find((a) => !a.startsWith('-'));
  return { cjs, outFile: resolve(given ?? join(AGENT, cjs ? 'dist/slipway-agent.cjs' : 'dist/slipway-agent.mjs')) };
}

/** The file's first lines: runnable on its own, and (ESM) a `require` in scope for esbuild's __require of Node's built-ins. */
function bannerFor(cjs) {
  const lines = [
    '#!/usr/bin/env node',
    '// Slipway node agent, bundled by core/agent/scripts/bundle.mjs: needs only Node 20 or newer.',
  ];
  if (!cjs)
    lines.push(
      "import { createRequire as __slipwayCreateRequire } from 'node:module';",
      'const require = __slipwayCreateRequire(import.meta.url);',
    );
  return lines.join('\n');
}

async function main() {
  const { cjs, outFile } = parseArguments(process.argv.slice(2));
  await mkdir(dirname(outFile), { recursive: true });
  const started = performance.now();
  let result;
  try {
    result = await build({
      absWorkingDir: REPO,
      entryPoints: [ENTRY],
      outfile: outFile,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: cjs ? 'cjs' : 'esm',
      // `source` first: workspace packages resolve to their .ts sources; others fall through to node/import.
      conditions: ['source'],
      tsconfig: join(AGENT, 'bundle/tsconfig.json'),
      banner: { js: bannerFor(cjs) },
      // The bundle has no package.json beside it: its version is written in at build time.
      define: {
        SLIPWAY_AGENT_VERSION: JSON.stringify(JSON.parse(readFileSync(join(AGENT, 'package.json'), 'utf8')).version),
      },
      // Readable in a journal's stack trace; minifying saves little on a VM disk.
      minify: false,
      legalComments: 'inline',
      metafile: true,
      plugins: [sideEffectFree],
      logLevel: 'silent',
    });
  } catch (error) {
    const messages = error.errors?.map(
      (e) => `  ${e.location ? `${e.location.file}:${e.location.line}: ` : ''}${e.text}`,
    ) ?? [String(error)];
    fail(
      `esbuild could not bundle the agent:\n${messages.join('\n')}${messages.some((m) => m.includes('.node')) ? '\n  (a native addon: the agent must not depend on one)' : ''}`,
    );
  }
  const elapsedMs = performance.now() - started;
  for (const warning of result.warnings) process.stderr.write(`warning: ${warning.text}\n`);

  const output =
    result.metafile.outputs[relative(REPO, outFile).split(sep).join('/')] ?? Object.values(result.metafile.outputs)[0];
  const packages = packagesOf(output.inputs);
  const problems = [];
  for (const [name, info] of packages) {
    for (const [pattern, why] of FORBIDDEN) if (pattern.test(name)) problems.push(`${name}: ${why}`);
    if (info.native) problems.push(`${name}: a native addon (${info.native})`);
  }
  for (const file of Object.keys(output.inputs)) if (file.endsWith('.node')) problems.push(`${file}: a native addon`);
  const builtins = new Set(builtinModules);
  for (const name of output.imports
    .filter((i) => i.external && !i.path.startsWith('node:') && !builtins.has(i.path))
    .map((i) => i.path)) {
    problems.push(`${name}: left as an import, so the file would need node_modules at run time`);
  }
  if (problems.length) {
    const unique = [...new Set(problems)];
    await rm(outFile, { force: true });
    fail(`the bundle would include what the agent must not carry:\n${unique.map((p) => `  ${p}`).join('\n')}`);
  }

  await chmod(outFile, 0o755);
  const { size } = await stat(outFile);
  const lines = [...packages]
    .sort((a, b) => b[1].bytes - a[1].bytes)
    .map(
      ([name, info]) =>
        `  ${name.padEnd(28)} ${kib(info.bytes).padStart(9)}  ${info.files} ${info.files === 1 ? 'file' : 'files'}`,
    );
  const shown = relative(process.cwd(), outFile);
  process.stdout.write(
    `${shown && !shown.startsWith(`..${sep}`) ? shown : outFile}: ${kib(size)} (${size} bytes) in ${Math.round(elapsedMs)} ms\npackages inlined:\n${lines.join('\n')}\n`,
  );
}

/** Groups the bundle's inputs by the package each file belongs to (the nearest package.json's name). */
function packagesOf(inputs) {
  const packages = new Map();
  const nameOfDir = new Map();
  for (const [file, { bytesInOutput }] of Object.entries(inputs)) {
    const dir = packageDirOf(resolve(REPO, file), nameOfDir);
    const name = dir ? nameOfDir.get(dir) : `(outside any package) ${file}`;
    const info = packages.get(name) ?? { bytes: 0, files: 0, native: nativeMark(dir) };
    info.bytes += bytesInOutput;
    info.files += 1;
    packages.set(name, info);
  }
  return packages;
}

function packageDirOf(file, cache) {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    if (cache.has(dir)) return dir;
    const manifest = join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    const { name } = JSON.parse(readFileSync(manifest, 'utf8'));
    // A nested package.json without a name (`{"type":"module"}` in a dist folder) is not the package.
    if (!name) continue;
    cache.set(dir, name);
    return dir;
  }
  return undefined;
}

function nativeMark(dir) {
  if (!dir) return undefined;
  if (existsSync(join(dir, 'binding.gyp'))) return 'binding.gyp';
  if (existsSync(join(dir, 'prebuilds'))) return 'prebuilds/';
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  if (manifest.gypfile) return 'gypfile';
  const loader = Object.keys(manifest.dependencies ?? {}).find((d) => NATIVE_LOADERS.has(d));
  return loader ? `depends on ${loader}` : undefined;
}

function kib(bytes) {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

function fail(message) {
  process.stderr.write(`bundle.mjs: ${message}\n`);
  process.exit(1);
}

await main();
