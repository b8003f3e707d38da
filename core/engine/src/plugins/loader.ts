import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Ajv } from 'ajv';
import semver from 'semver';
import {
  CONTRACT_VERSIONS,
  PLUGIN_KINDS,
  PLUGIN_MATURITIES,
  SlipwayError,
  type PluginKind,
  type PluginMaturity,
  type PluginModule,
} from '@slipway/contracts';
import { describeAjvErrors } from '../config/ajv-errors.js';
import { providePluginPeers } from './plugin-peers.js';
import type { PluginRef, SlipwayConfig } from '../config/schema.js';

/** A plugin that passed every check and whose config is validated and frozen; nothing created yet. */
export interface ResolvedPlugin<K extends PluginKind = PluginKind> {
  kind: K;
  name: string;
  version: string;
  /** Where in slipway.yaml it was named: `iaas[0]`, `network`. */
  configPath: string;
  /** The IaaS target's name; `default` for the single plugins. */
  instanceName: string;
  module: PluginModule<K, unknown>;
  config: Readonly<Record<string, unknown>>;
  /** How far the plugin is proven, from its package.json; `experimental` when it does not say. */
  maturity: PluginMaturity;
}

interface PackageManifest {
  name: string;
  version: string;
  slipway?: { kind?: string; contract?: string; maturity?: string };
}

/** The plugin references of a config, with where each sits and the kind it must be. */
export function pluginRefsOf(config: SlipwayConfig): Array<{ kind: PluginKind; ref: PluginRef; path: string }> {
  const refs: Array<{ kind: PluginKind; ref: PluginRef; path: string }> = [
    { kind: 'credentials', ref: config.credentials, path: 'credentials' },
    ...config.iaas.map((ref, i) => ({ kind: 'iaas' as const, ref, path: `iaas[${i}]` })),
    { kind: 'network', ref: config.network, path: 'network' },
  ];
  if (config.registry) refs.push({ kind: 'registry', ref: config.registry, path: 'registry' });
  return refs;
}

/**
 * Resolves plugins by package name and semver range and imports them at runtime. Every refusal happens
 * before anything is created and says what was found, what was wanted and what to do.
 * Order of checks: installed? version in range? package.json kind/contract (before importing any code)?
 * module shape agrees with package.json? config passes the plugin's schema?
 */
export class PluginLoader {
  private readonly searchDirs: string[];
  private readonly coreDir = dirname(fileURLToPath(import.meta.url));
  private readonly ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, verbose: true });

  constructor(options: { searchDirs?: readonly string[]; configDir?: string } = {}) {
    const base = options.configDir ? dirname(resolve(options.configDir)) : process.cwd();
    this.searchDirs = (options.searchDirs ?? []).map((d) => resolve(base, d));
  }

  /** Resolves every plugin of a config; throws PluginRefused/InvalidConfig listing every problem. */
  async resolveAll(config: SlipwayConfig): Promise<ResolvedPlugin[]> {
    const resolved: ResolvedPlugin[] = [];
    const errors: string[] = [];
    for (const { kind, ref, path } of pluginRefsOf(config)) {
      try {
        resolved.push(await this.resolve(kind, ref, path));
      } catch (e) {
        const err = SlipwayError.from(e);
        errors.push(...((err.details?.errors as string[] | undefined) ?? [err.message]));
      }
    }
    if (errors.length) {
      throw new SlipwayError('PluginRefused', `slipway cannot start its plugins:\n  ${errors.join('\n  ')}`, {
        details: { errors },
      });
    }
    return resolved;
  }

  /** For `slipway validate`: every problem of every plugin, nothing thrown, nothing created. */
  async checkAll(config: SlipwayConfig): Promise<string[]> {
    try {
      await this.resolveAll(config);
      return [];
    } catch (e) {
      const err = SlipwayError.from(e);
      return (err.details?.errors as string[] | undefined) ?? [err.message];
    }
  }

  async resolve<K extends PluginKind>(kind: K, ref: PluginRef, path: string): Promise<ResolvedPlugin<K>> {
    const wanted = ref.version ?? '*';
    const found = this.findPackage(ref.plugin);
    if (!found) {
      const looked = [...this.searchDirs, 'the Slipway installation'].join(', ');
      throw refused(
        `${path}.plugin: ${ref.plugin} is not installed (looked in ${looked}); run: npm install ${ref.plugin}@"${wanted}"`,
      );
    }
    const { dir, manifest, viaCore, scope } = found;
    if (!semver.satisfies(manifest.version, wanted, { includePrerelease: true })) {
      throw refused(
        `${path}.version: ${ref.plugin} ${manifest.version} is installed but slipway.yaml wants ${wanted}; run: npm install ${ref.plugin}@"${wanted}" or change ${path}.version`,
      );
    }
    const declared = manifest.slipway;
    if (!declared?.kind || !declared.contract) {
      throw refused(
        `${path}.plugin: ${ref.plugin} ${manifest.version} is not a Slipway plugin (its package.json has no "slipway": { "kind", "contract" })`,
      );
    }
    if (declared.kind !== kind) {
      throw refused(
        `${path}.plugin: ${ref.plugin} is a ${declared.kind} plugin, but ${path} needs ${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind} plugin`,
      );
    }
    const maturity = declared.maturity ?? 'experimental';
    if (!(PLUGIN_MATURITIES as readonly string[]).includes(maturity)) {
      throw refused(
        `${path}.plugin: ${ref.plugin} ${manifest.version} says maturity "${maturity}" in package.json; its author must use one of ${PLUGIN_MATURITIES.join(', ')}`,
      );
    }
    const provided = CONTRACT_VERSIONS[kind];
    if (!contractSatisfied(provided, declared.contract)) {
      throw refused(
        `${path}.plugin: ${ref.plugin} ${manifest.version} implements ${kind} contract ${declared.contract}; this Slipway provides ${kind} contract ${provided}; install a version of ${ref.plugin} built for contract ^${semver.major(provided)}`,
      );
    }

    // A plugin from an operator's directory gets the plugin API's packages from this installation.
    if (!viaCore) providePluginPeers(scope);
    const module = await this.importModule(ref.plugin, dir, viaCore, path);
    if (module.kind !== declared.kind || module.contract !== declared.contract) {
      throw refused(
        `${path}.plugin: ${ref.plugin} says kind ${declared.kind} / contract ${declared.contract} in package.json but ${module.kind} / ${module.contract} in its module; its author must make them agree`,
      );
    }
    if (
      !PLUGIN_KINDS.includes(module.kind) ||
      typeof module.create !== 'function' ||
      typeof module.configSchema !== 'object'
    ) {
      throw refused(
        `${path}.plugin: ${ref.plugin}'s default export is not a plugin module (need kind, contract, configSchema, create)`,
      );
    }

    const config = structuredClone(ref.config ?? {});
    let validate;
    try {
      validate = this.ajv.compile(module.configSchema);
    } catch (e) {
      throw refused(`${path}.plugin: ${ref.plugin}'s configSchema does not compile: ${(e as Error).message}`);
    }
    if (!validate(config)) {
      const errors = describeAjvErrors(validate.errors, `${path}.config`).map(
        (line) => `${line} (plugin ${ref.plugin})`,
      );
      throw new SlipwayError('InvalidConfig', errors.join('\n'), { details: { errors }, plugin: ref.plugin });
    }
    return {
      kind,
      name: ref.plugin,
      version: manifest.version,
      configPath: path,
      instanceName: 'name' in ref && typeof ref.name === 'string' ? ref.name : 'default',
      module: module as PluginModule<K, unknown>,
      config: Object.freeze(config),
      maturity: maturity as PluginMaturity,
    };
  }

  /** Node's package lookup (node_modules in each parent), first in the operator's dirs, then the core's. */
  private findPackage(
    name: string,
  ): { dir: string; manifest: PackageManifest; viaCore: boolean; scope: string } | undefined {
    const starts = [...this.searchDirs.map((d) => ({ d, viaCore: false })), { d: this.coreDir, viaCore: true }];
    for (const { d, viaCore } of starts) {
      for (let dir = d; ; dir = dirname(dir)) {
        const candidate = join(dir, 'node_modules', name);
        if (existsSync(join(candidate, 'package.json'))) {
          const manifest = JSON.parse(readFileSync(join(candidate, 'package.json'), 'utf8')) as PackageManifest;
          return { dir: candidate, manifest, viaCore, scope: dir };
        }
        // A plugin dir may itself be the package (a vendor's checkout).
        if (!viaCore && dir === d && existsSync(join(dir, 'package.json'))) {
          const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageManifest;
          if (manifest.name === name) return { dir, manifest, viaCore, scope: dir };
        }
        if (dirname(dir) === dir) break;
      }
    }
    return undefined;
  }

  private async importModule(name: string, dir: string, viaCore: boolean, path: string): Promise<PluginModule> {
    let imported: { default?: PluginModule };
    try {
      // Through the core's own resolution a bare specifier keeps export conditions (tests run sources);
      // an operator's plugin dir is resolved from that dir and imported by file URL.
      imported = viaCore ? await import(name) : await import(pathToFileURL(entryOf(dir)).href);
    } catch (e) {
      throw refused(`${path}.plugin: ${name} failed to load: ${(e as Error).message}`, e);
    }
    const module = imported.default;
    if (!module || typeof module !== 'object') {
      throw refused(`${path}.plugin: ${name} has no default export; a plugin exports definePlugin({...}) as default`);
    }
    return module;
  }
}

/** The file a package's "." export (import/node/default conditions) or "main" points to. */
function entryOf(dir: string): string {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { exports?: unknown; main?: string };
  const pick = (target: unknown): string | undefined => {
    if (typeof target === 'string') return target;
    if (target && typeof target === 'object') {
      const map = target as Record<string, unknown>;
      if ('.' in map) return pick(map['.']);
      for (const condition of ['import', 'node', 'default']) if (condition in map) return pick(map[condition]);
    }
    return undefined;
  };
  return resolve(dir, pick(manifest.exports) ?? manifest.main ?? 'index.js');
}

function contractSatisfied(provided: string, range: string): boolean {
  try {
    return semver.satisfies(provided, range);
  } catch {
    return false;
  }
}

function refused(message: string, cause?: unknown): SlipwayError {
  return new SlipwayError('PluginRefused', message, { cause });
}
