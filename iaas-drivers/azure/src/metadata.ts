import { readFile } from 'node:fs/promises';
import { SlipwayError, decodeAgentSettings, type AgentSettings, type MetadataSource } from '@slipway/contracts';

const PLUGIN = '@slipway/iaas-azure';

/** The link-local address of the Azure Instance Metadata Service on every VM. */
export const AZURE_IMDS_URL = 'http://169.254.169.254';
/** IMDS versions the reader asks for: the instance document, and the userData leaf (2021-01-01 introduced userData). */
export const IMDS_INSTANCE_API_VERSION = '2021-02-01';
export const IMDS_USER_DATA_API_VERSION = '2021-01-01';

/**
 * Where the Azure Linux agent (waagent) leaves customData on the VM: `CustomData` holds it (base64, or decoded
 * when `Provisioning.DecodeCustomData=y`), `ovf-env.xml` has it in `<CustomData>` of the provisioning ISO.
 * cloud-init images keep a copy under /var/lib/cloud/ as well.
 */
export const WAAGENT_CUSTOM_DATA_PATH = '/var/lib/waagent/CustomData';
export const WAAGENT_OVF_ENV_PATH = '/var/lib/waagent/ovf-env.xml';

/** The fields of the IMDS instance document the agent uses. */
export interface AzureInstanceMetadata {
  compute: {
    vmId: string;
    name: string;
    location?: string;
    resourceGroupName?: string;
    subscriptionId?: string;
    vmSize?: string;
    zone?: string;
    tagsList?: Array<{ name: string; value: string }>;
    /** IMDS prints the LUN as a string. */
    storageProfile?: { dataDisks?: Array<{ lun: string; name?: string; managedDisk?: { id?: string } }> };
  };
  network?: { interface?: Array<{ ipv4?: { ipAddress?: Array<{ privateIpAddress?: string }> } }> };
}

export interface AzureImdsOptions {
  /** IMDS root. Default http://169.254.169.254; a fake serves each VM's view under its own prefix. */
  baseUrl?: string;
  /** Where to look for customData when IMDS has no userData. Default waagent's paths; `[]` turns the fallback off. */
  customDataPaths?: string[];
  /** The directory of the data-disk LUN links. Default /dev/disk/azure/scsi1. */
  diskLinks?: string;
}

/**
 * The agent's settings on an Azure VM. The driver delivers them twice: as `userData`, which IMDS serves for the
 * VM's whole life (`GET /metadata/instance/compute/userData?format=text`, base64), and as `osProfile.customData`,
 * which Azure hands over only at provisioning and never through IMDS (its IMDS field has stayed empty since
 * 2021). userData is read first; customData from waagent's files is the fallback (images or clouds without
 * userData, such as older Azure Stack Hub). IMDS needs the `Metadata: true` header and refuses proxied requests
 * (X-Forwarded-For), so this reader talks to it directly, never through a proxy.
 */
export class AzureImdsMetadata implements MetadataSource {
  readonly kind = 'azure-imds';
  private readonly base: string;
  private readonly customDataPaths: string[];
  private readonly diskLinks: string;

  constructor(options: AzureImdsOptions = {}) {
    this.base = (options.baseUrl ?? AZURE_IMDS_URL).replace(/\/+$/, '');
    this.customDataPaths = options.customDataPaths ?? [WAAGENT_CUSTOM_DATA_PATH, WAAGENT_OVF_ENV_PATH];
    this.diskLinks = (options.diskLinks ?? '/dev/disk/azure/scsi1').replace(/\/+$/, '');
  }

  async readSettings(signal?: AbortSignal): Promise<AgentSettings> {
    const userData = (
      await this.get(
        `/metadata/instance/compute/userData?api-version=${IMDS_USER_DATA_API_VERSION}&format=text`,
        signal,
      )
    ).trim();
    if (userData) return parseSettings(userData, 'IMDS userData');
    const customData = await this.readCustomData();
    if (customData) return parseSettings(customData.text, customData.source);
    throw new SlipwayError(
      'NotFound',
      `this VM has neither userData in IMDS nor customData in ${this.customDataPaths.join(' or ') || '(no paths)'}: was it created by Slipway?`,
      { plugin: PLUGIN },
    );
  }

  /** The VM's name: the id the driver knows it by (`compute.vmId` is Azure's own GUID for it). */
  async instanceId(signal?: AbortSignal): Promise<string | undefined> {
    return (await this.instance(signal)).compute.name;
  }

  /**
   * Where an attached data disk shows up: IMDS lists the VM's data disks with their LUNs, and the Azure Linux
   * agent's udev rules link LUN N of the data-disk controller to /dev/disk/azure/scsi1/lun<N>. Undefined while
   * the disk is not attached.
   */
  async locateDisk(diskId: string, signal?: AbortSignal): Promise<{ kind: 'device'; path: string } | undefined> {
    const disks = (await this.instance(signal)).compute.storageProfile?.dataDisks ?? [];
    const wanted = diskId.toLowerCase();
    const found = disks.find(
      (d) => d.name?.toLowerCase() === wanted || d.managedDisk?.id?.toLowerCase().endsWith(`/disks/${wanted}`),
    );
    return found ? { kind: 'device', path: `${this.diskLinks}/lun${found.lun}` } : undefined;
  }

  async instance(signal?: AbortSignal): Promise<AzureInstanceMetadata> {
    const text = await this.get(`/metadata/instance?api-version=${IMDS_INSTANCE_API_VERSION}`, signal);
    try {
      return JSON.parse(text) as AzureInstanceMetadata;
    } catch (error) {
      throw new SlipwayError('CloudError', 'the IMDS instance document is not JSON', { plugin: PLUGIN, cause: error });
    }
  }

  private async get(path: string, signal?: AbortSignal): Promise<string> {
    let response: Response;
    try {
      response = await fetch(this.base + path, { signal, headers: { Metadata: 'true' } });
    } catch (error) {
      if (signal?.aborted)
        throw new SlipwayError('Cancelled', 'reading IMDS was aborted', { plugin: PLUGIN, cause: error });
      // IMDS answers once the VM's network is up: worth trying again.
      throw new SlipwayError('Retryable', `cannot reach Azure IMDS at ${this.base}: ${(error as Error).message}`, {
        plugin: PLUGIN,
        cause: error,
      });
    }
    const text = await response.text();
    if (response.ok) return text;
    const code =
      response.status === 429
        ? 'RateLimited'
        : response.status >= 500 || response.status === 410
          ? 'Retryable'
          : response.status === 404
            ? 'NotFound'
            : 'CloudError';
    throw new SlipwayError(code, `Azure IMDS ${path.split('?')[0]}: ${response.status} ${imdsError(text)}`, {
      plugin: PLUGIN,
    });
  }

  private async readCustomData(): Promise<{ text: string; source: string } | undefined> {
    for (const path of this.customDataPaths) {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch {
        continue;
      }
      const value = path.endsWith('.xml')
        ? /<(?:\w+:)?CustomData>([^<]*)<\/(?:\w+:)?CustomData>/.exec(text)?.[1]
        : text;
      if (value?.trim()) return { text: value.trim(), source: path };
    }
    return undefined;
  }
}

function parseSettings(text: string, source: string): AgentSettings {
  try {
    return decodeAgentSettings(text);
  } catch (error) {
    throw new SlipwayError('InvalidConfig', `the ${source} of this VM is not Slipway agent settings`, {
      plugin: PLUGIN,
      cause: error,
    });
  }
}

/** IMDS errors are `{ "error": "..." }`. */
function imdsError(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown };
    if (typeof body.error === 'string') return body.error;
  } catch {
    // not JSON
  }
  return text.slice(0, 200);
}
