import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SlipwayError, type JobProperties, type JobSpec, type Logger } from '@slipway/contracts';
import type { HookSpec, JobCatalog, JobContext, JobPlan } from '../job-catalog.js';
import type { AgentPaths } from '../paths.js';
import type { ProcessSpec } from '../process-runner.js';
import { BinaryLocator, BinaryVersions } from './binaries.js';
import type { JobDefinition, RenderContext, RenderedJob } from './job-definition.js';
import { writeJobFiles } from './job-files.js';
import { cniJob } from './jobs/cni.js';
import { containerdJob } from './jobs/containerd.js';
import { corednsJob } from './jobs/coredns.js';
import { etcdJob } from './jobs/etcd.js';
import { kubeApiserverJob } from './jobs/kube-apiserver.js';
import { kubeControllerManagerJob } from './jobs/kube-controller-manager.js';
import { kubeProxyJob } from './jobs/kube-proxy.js';
import { kubeSchedulerJob } from './jobs/kube-scheduler.js';
import { kubeletJob } from './jobs/kubelet.js';
import { componentVersions, type ComponentVersions } from './versions.js';

/** Every job this agent knows, by the name the control plane sends. */
export const KUBERNETES_JOBS: Readonly<Record<string, JobDefinition>> = Object.freeze(
  Object.fromEntries(
    [
      etcdJob,
      kubeApiserverJob,
      kubeControllerManagerJob,
      kubeSchedulerJob,
      corednsJob,
      containerdJob,
      cniJob,
      kubeletJob,
      kubeProxyJob,
    ].map((job) => [job.name, job]),
  ),
);

/** Which package (and so which version directory) a binary comes from. */
function packageOf(binary: string, versions: ComponentVersions): { pkg: string; version: string } {
  if (binary === 'etcd' || binary === 'etcdctl') return { pkg: 'etcd', version: versions.etcd };
  if (binary === 'containerd' || binary === 'ctr' || binary.startsWith('containerd-shim'))
    return { pkg: 'containerd', version: versions.containerd };
  return { pkg: 'kubernetes', version: versions.kubernetes };
}

export interface KubernetesJobCatalogOptions {
  paths: AgentPaths;
  /** Extra directories with binaries, searched first (`{dir}/{version}/` then `{dir}/`). */
  binDirs?: string[];
  logger?: Logger;
  /** PATH to search last; default the agent's own. */
  path?: string;
  /**
   * Where systemd-resolved writes the upstream resolvers; the kubelet's `resolvConf` when it exists, else
   * `fallbackResolvConf`. Defaults are the systemd and libc paths; tests point them elsewhere.
   */
  systemdResolvConf?: string;
  fallbackResolvConf?: string;
}

export const SYSTEMD_RESOLV_CONF = '/run/systemd/resolve/resolv.conf';
export const LIBC_RESOLV_CONF = '/etc/resolv.conf';

/**
 * kubeadm's rule (it checks whether systemd-resolved is active): a node whose `/etc/resolv.conf` is
 * systemd-resolved's stub gives pods the file with the real upstream servers. The file exists exactly
 * when systemd-resolved runs, so its presence is the test; it is checked at each render, so an image
 * that enables or disables the service is followed at the next sync.
 */
export function detectResolvConf(systemd = SYSTEMD_RESOLV_CONF, fallback = LIBC_RESOLV_CONF): string {
  return existsSync(systemd) ? systemd : fallback;
}

/**
 * The Kubernetes jobs of a node (what kubo-release was): renders each job's configs and certificates from
 * the desired state's properties, finds its binaries for the cluster's Kubernetes version, and describes its
 * processes with their health checks. A job whose binary is missing is `unavailable`, with where it looked.
 */
export class KubernetesJobCatalog implements JobCatalog {
  private readonly binaries: BinaryLocator;
  private readonly versions = new BinaryVersions();

  constructor(private readonly options: KubernetesJobCatalogOptions) {
    this.binaries = new BinaryLocator({
      binDirs: options.binDirs ?? [],
      packagesDir: options.paths.packagesDir,
      path: options.path,
    });
  }

  /** Renders a job without writing anything: what `plan` writes, for tests and `slipway-agent render`. */
  render(job: JobSpec, properties: JobProperties): { rendered: RenderedJob; context: RenderContext } {
    const definition = KUBERNETES_JOBS[job.name];
    if (!definition)
      throw new SlipwayError(
        'Unsupported',
        `this agent has no job named ${job.name}; it knows ${Object.keys(KUBERNETES_JOBS).join(', ')}`,
      );
    const context = this.renderContext(job.name, properties);
    return { rendered: definition.render(context), context };
  }

  async plan(job: JobSpec, context: JobContext & { signal: AbortSignal }): Promise<JobPlan> {
    const properties = context.properties as JobProperties;
    if (!properties.cluster || !properties.node) {
      return unavailablePlan(
        job,
        'the control plane sent no cluster settings (properties.cluster, properties.node) for this job',
      );
    }
    if (!KUBERNETES_JOBS[job.name]) return unavailablePlan(job, `this agent has no job named ${job.name}`);
    const { rendered: first, context: renderContext } = this.render(job, properties);
    const versions = componentVersions(properties.cluster.kubernetesVersion);
    const configHash = await writeJobFiles(first.files, first.directories);
    const located = first.processes.map((template) => this.find(template.binary, versions));
    const definition = KUBERNETES_JOBS[job.name]!;
    // Asking peers (etcd's membership) only makes sense for a job that can start here.
    const rendered =
      definition.prepare && located.every((found) => 'path' in found)
        ? await definition.prepare(renderContext, first, {
            signal: context.signal,
            ...(this.options.logger ? { logger: this.options.logger } : {}),
          })
        : first;
    const missing: string[] = [];
    const warnings = await Promise.all(
      rendered.processes.map(async (template, i) => {
        const found = located[i]!;
        return 'path' in found ? this.versionWarning(template.binary, found.path, versions) : undefined;
      }),
    );
    const processes: ProcessSpec[] = rendered.processes.map((template, i) => {
      const found = located[i]!;
      if ('missing' in found) missing.push(found.missing);
      const warning = warnings[i];
      return {
        ...(warning ? { warning } : {}),
        job: job.name,
        name: template.name,
        command: 'path' in found ? found.path : template.binary,
        args: template.args,
        ...(template.env && Object.keys(template.env).length ? { env: template.env } : {}),
        ...(template.health ? { health: template.health } : {}),
        configHash,
        ...('missing' in found ? { unavailable: found.missing } : {}),
      };
    });
    for (const extra of rendered.extraBinaries ?? []) {
      const located = new BinaryLocator({
        binDirs: extra.dirs,
        packagesDir: this.options.paths.packagesDir,
        path: '',
      }).find(extra.name, 'cni', versions.cni);
      if ('missing' in located) missing.push(located.missing);
    }
    const hooks: HookSpec[] = (rendered.hooks ?? []).map((hook) => {
      const found = this.find(hook.binary, versions);
      return {
        name: hook.name,
        command: 'path' in found ? found.path : hook.binary,
        args: hook.args,
        ...(hook.timeoutMs ? { timeoutMs: hook.timeoutMs } : {}),
        ...('missing' in found ? { unavailable: found.missing } : {}),
      };
    });
    return { processes, hooks, ...(missing.length ? { unavailable: missing.join('; ') } : {}) };
  }

  async drain(job: JobSpec, context: JobContext & { signal: AbortSignal }): Promise<void> {
    const properties = context.properties as JobProperties;
    if (!properties.cluster || !properties.node || !KUBERNETES_JOBS[job.name]) return;
    const drain = this.render(job, properties).rendered.drain;
    if (!drain) return;
    const found = this.find(drain.binary, componentVersions(properties.cluster.kubernetesVersion));
    if ('missing' in found) {
      this.options.logger?.warn('cannot drain: binary missing', { job: job.name, reason: found.missing });
      return;
    }
    await new Promise<void>((resolve, reject) => {
      execFile(
        found.path,
        drain.args,
        { signal: context.signal, maxBuffer: 4 * 1024 * 1024 },
        (error, _stdout, stderr) => {
          if (error)
            reject(
              new SlipwayError(
                'Retryable',
                `drain of ${job.name} failed: ${drainMessage(String(stderr || error.message))}`,
                { cause: error },
              ),
            );
          else resolve();
        },
      );
    });
  }

  /**
   * Whether a binary is the version the catalog names for this Kubernetes release (etcd: `etcd --version`).
   * A mismatch runs (an operator may have a reason) but is reported with the process, in plain words.
   */
  private async versionWarning(binary: string, path: string, versions: ComponentVersions): Promise<string | undefined> {
    if (binary !== 'etcd') return undefined;
    const reported = await this.versions.reported(path, ['--version'], /etcd Version:\s*v?(\S+)/);
    if (!reported)
      return `could not read the version of ${path} (${path} --version); the catalog wants etcd ${versions.etcd} for Kubernetes ${versions.kubernetes}`;
    if (reported === versions.etcd) return undefined;
    return `etcd at ${path} reports version ${reported}; the catalog wants ${versions.etcd} for Kubernetes ${versions.kubernetes}: install etcd ${versions.etcd} in ${this.binaries.searchPath('etcd', versions.etcd)[0] ?? 'a --bin-dir'}`;
  }

  private find(binary: string, versions: ComponentVersions): { path: string } | { missing: string } {
    const { pkg, version } = packageOf(binary, versions);
    return this.binaries.find(binary, pkg, version);
  }

  private renderContext(job: string, properties: JobProperties): RenderContext {
    const { paths } = this.options;
    const jobDir = join(paths.jobsDir, job);
    return {
      cluster: properties.cluster!,
      node: properties.node!,
      etcd: properties.etcd,
      tls: properties.tls ?? {},
      properties,
      paths,
      jobDir,
      file: (relative) => (relative.startsWith('/') ? relative : join(jobDir, relative)),
      jobFile: (other, relative) => join(paths.jobsDir, other, relative),
      cni: { binDir: join(paths.packagesDir, 'cni', 'bin'), confDir: join(paths.jobsDir, 'cni', 'net.d') },
      host: { resolvConf: detectResolvConf(this.options.systemdResolvConf, this.options.fallbackResolvConf) },
    };
  }
}

/**
 * What the control plane is told of a failed drain: kubectl's error lines (each eviction that failed, then
 * `error: unable to drain node ...`), whole lines only, within a bound; its other output when it has none.
 */
export function drainMessage(output: string, limit = 1500): string {
  const lines = output
    .trim()
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const errors = lines.filter((l) => /error/i.test(l));
  const kept: string[] = [];
  let size = 0;
  for (const line of (errors.length ? errors : lines).reverse()) {
    if (size + line.length > limit && kept.length) break;
    kept.unshift(line.slice(-limit));
    size += line.length + 1;
  }
  return kept.join('\n');
}

function unavailablePlan(job: JobSpec, reason: string): JobPlan {
  return {
    unavailable: reason,
    processes: job.processes.map((name) => ({ job: job.name, name, command: name, args: [], unavailable: reason })),
  };
}
