import { execFile } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import { SlipwayError, decodeAgentSettings, type AgentSettings, type MetadataSource } from '@slipway/contracts';
import type { FetchTls } from './tls.js';

export { fetchTls, type FetchTls } from './tls.js';

const PLUGIN = '@slipway/iaas-vsphere';

/** The guestinfo keys the driver sets through ReconfigVM_Task extraConfig. */
export const USERDATA_KEY = 'guestinfo.userdata';
export const USERDATA_ENCODING_KEY = 'guestinfo.userdata.encoding';
export const VM_ID_KEY = 'guestinfo.slipway.vm_id';

/** Reads one guestinfo key of the VM it runs on; `undefined` when the key is not set. */
export interface GuestInfoReader {
  /** A name for logs: `vmtoolsd`, `fake-guestinfo-http`. */
  readonly kind: string;
  get(key: string, signal?: AbortSignal): Promise<string | undefined>;
}

/** Runs a command and gives its exit code and output; injectable so the reader can be tested without VMware Tools. */
export type CommandRunner = (
  command: string,
  args: readonly string[],
  signal?: AbortSignal,
) => Promise<{ code: number; stdout: string; stderr: string }>;

/**
 * guestinfo through VMware Tools on a real vSphere guest: `vmtoolsd --cmd "info-get guestinfo.KEY"` asks the
 * hypervisor over the VMware backdoor channel for the VM's `guestinfo.*` extraConfig value. It exits 1
 * with "No value found" when the key is not set.
 */
export function vmtoolsdReader(options: { command?: string; run?: CommandRunner } = {}): GuestInfoReader {
  const command = options.command ?? 'vmtoolsd';
  const run = options.run ?? runCommand;
  return {
    kind: 'vmtoolsd',
    async get(key, signal) {
      let result: Awaited<ReturnType<CommandRunner>>;
      try {
        result = await run(command, ['--cmd', `info-get ${key}`], signal);
      } catch (error) {
        if (signal?.aborted)
          throw new SlipwayError('Cancelled', 'reading guestinfo was aborted', { plugin: PLUGIN, cause: error });
        throw new SlipwayError(
          'Internal',
          `cannot run ${command} to read ${key} (is open-vm-tools installed?): ${(error as Error).message}`,
          { plugin: PLUGIN, cause: error },
        );
      }
      if (result.code === 0) return result.stdout.replace(/\r?\n$/, '');
      if (/no value found/i.test(result.stderr + result.stdout)) return undefined;
      throw new SlipwayError(
        'Retryable',
        `${command} --cmd "info-get ${key}" exited ${result.code}: ${(result.stderr || result.stdout).trim().slice(0, 200)}`,
        { plugin: PLUGIN },
      );
    },
  };
}

/**
 * guestinfo from the fake vCenter's per-VM HTTP endpoint, `GET {base}/guestinfo/{vm}/{key}`. This is a stand-in
 * for VMware Tools' backdoor channel, which only exists inside a real VM: the fake serves each VM's
 * `guestinfo.*` extraConfig there, so a simulated agent reads exactly what the driver set through
 * ReconfigVM_Task. Real guests use `vmtoolsdReader`. `tls` (from `fetchTls({ caPem })`) trusts the fake's CA;
 * one is shared by all readers, since a TLS context is costly to build.
 */
export function httpGuestInfoReader(options: { url: string; tls?: FetchTls }): GuestInfoReader {
  const base = options.url.replace(/\/+$/, '');
  const init = options.tls?.init ?? {};
  return {
    kind: 'fake-guestinfo-http',
    async get(key, signal) {
      let response: Response;
      let text: string;
      try {
        response = await fetch(`${base}/${encodeURIComponent(key)}`, { signal, ...init } as RequestInit);
        text = await response.text();
      } catch (error) {
        if (signal?.aborted)
          throw new SlipwayError('Cancelled', 'reading guestinfo was aborted', { plugin: PLUGIN, cause: error });
        throw new SlipwayError(
          'Retryable',
          `cannot reach the guestinfo endpoint ${base}: ${(error as Error).message}`,
          { plugin: PLUGIN, cause: error },
        );
      }
      if (response.status === 404) return undefined;
      if (!response.ok)
        throw new SlipwayError(
          response.status >= 500 ? 'Retryable' : 'CloudError',
          `guestinfo ${key}: HTTP ${response.status} ${text.slice(0, 200)}`,
          { plugin: PLUGIN },
        );
      return text;
    },
  };
}

/**
 * The agent's settings from the VM's guestinfo: `guestinfo.userdata`, encoded as `guestinfo.userdata.encoding`
 * says (`base64`/`b64`, `gzip+base64`/`gz+b64`, or none: plain JSON), the same keys and encodings cloud-init's
 * VMware datasource reads.
 */
export class VsphereGuestInfo implements MetadataSource {
  readonly kind: string;

  constructor(private readonly reader: GuestInfoReader = vmtoolsdReader()) {
    this.kind = `vsphere-guestinfo(${reader.kind})`;
  }

  async readSettings(signal?: AbortSignal): Promise<AgentSettings> {
    const [data, encoding] = await Promise.all([
      this.reader.get(USERDATA_KEY, signal),
      this.reader.get(USERDATA_ENCODING_KEY, signal),
    ]);
    if (data === undefined || data === '') {
      throw new SlipwayError('NotFound', `this VM has no ${USERDATA_KEY} (was it created without agent settings?)`, {
        plugin: PLUGIN,
      });
    }
    let text: string;
    try {
      text = decodeUserData(data, encoding);
      return decodeAgentSettings(text);
    } catch (error) {
      if (SlipwayError.is(error)) throw error;
      throw new SlipwayError(
        'InvalidConfig',
        `${USERDATA_KEY} (encoding ${encoding ?? 'none'}) is not Slipway agent settings`,
        { plugin: PLUGIN, cause: error },
      );
    }
  }

  async instanceId(signal?: AbortSignal): Promise<string | undefined> {
    return this.reader.get(VM_ID_KEY, signal);
  }
}

function decodeUserData(data: string, encoding: string | undefined): string {
  switch ((encoding ?? '').trim().toLowerCase()) {
    case '':
      return data;
    case 'base64':
    case 'b64':
      return Buffer.from(data, 'base64').toString('utf8');
    case 'gzip+base64':
    case 'gz+b64':
      return gunzipSync(Buffer.from(data, 'base64')).toString('utf8');
    default:
      throw new SlipwayError('InvalidConfig', `${USERDATA_ENCODING_KEY} is "${encoding}"; known: base64, gzip+base64`, {
        plugin: PLUGIN,
      });
  }
}

function runCommand(
  command: string,
  args: readonly string[],
  signal?: AbortSignal,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, [...args], { signal, encoding: 'utf8', maxBuffer: 4 << 20 }, (error, stdout, stderr) => {
      if (error && typeof (error as NodeJS.ErrnoException).code !== 'number') {
        reject(error);
        return;
      }
      resolve({ code: error ? Number((error as NodeJS.ErrnoException).code) : 0, stdout, stderr });
    });
  });
}
