import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SlipwayError, decodeAgentSettings, type AgentSettings, type MetadataSource } from '@slipway/contracts';

const PLUGIN = '@slipway/iaas-openstack';

/** The link-local address of Nova's metadata service on every OpenStack guest. */
export const OPENSTACK_METADATA_URL = 'http://169.254.169.254';

/** What `openstack/latest/meta_data.json` holds (the fields the agent uses). */
export interface OpenStackInstanceMetadata {
  uuid: string;
  name?: string;
  availability_zone?: string;
  meta?: Record<string, string>;
  project_id?: string;
}

/**
 * The agent's settings from Nova's metadata service: `GET /openstack/latest/user_data` answers the user data
 * the driver gave at createServer, already base64-decoded (the settings JSON); `meta_data.json` has the
 * server's uuid. The service needs no token: Nova knows the guest by its source address.
 */
export class OpenStackMetadataService implements MetadataSource {
  readonly kind = 'openstack-metadata';
  private readonly base: string;

  /** `baseUrl`: the metadata service's root; a fake serves each VM's view under its own prefix. */
  constructor(baseUrl: string = OPENSTACK_METADATA_URL) {
    this.base = baseUrl.replace(/\/+$/, '');
  }

  async readSettings(signal?: AbortSignal): Promise<AgentSettings> {
    return parseSettings(await this.get('/openstack/latest/user_data', signal), this.kind);
  }

  async instanceId(signal?: AbortSignal): Promise<string | undefined> {
    return (await this.metadata(signal)).uuid;
  }

  async metadata(signal?: AbortSignal): Promise<OpenStackInstanceMetadata> {
    return parseMetadata(await this.get('/openstack/latest/meta_data.json', signal), this.kind);
  }

  private async get(path: string, signal?: AbortSignal): Promise<string> {
    let response: Response;
    try {
      response = await fetch(this.base + path, { signal, headers: { accept: '*/*' } });
    } catch (error) {
      if (signal?.aborted)
        throw new SlipwayError('Cancelled', 'reading the metadata service was aborted', {
          plugin: PLUGIN,
          cause: error,
        });
      // The metadata service answers only once the guest's network is up: worth trying again.
      throw new SlipwayError(
        'Retryable',
        `cannot reach the OpenStack metadata service at ${this.base}: ${(error as Error).message}`,
        { plugin: PLUGIN, cause: error },
      );
    }
    const text = await response.text();
    if (response.status === 404) {
      throw new SlipwayError(
        'NotFound',
        `the OpenStack metadata service has no ${path} for this server (was it created without user_data?)`,
        { plugin: PLUGIN },
      );
    }
    if (!response.ok) {
      throw new SlipwayError(
        response.status >= 500 ? 'Retryable' : 'CloudError',
        `OpenStack metadata service ${path}: ${response.status} ${text.slice(0, 200)}`,
        { plugin: PLUGIN },
      );
    }
    return text;
  }
}

/**
 * The same settings from a config drive (the ISO9660/vfat volume labelled `config-2` that Nova attaches when
 * the server is created with `config_drive: true`), already mounted at `mountPath`.
 */
export class OpenStackConfigDrive implements MetadataSource {
  readonly kind = 'openstack-config-drive';

  constructor(private readonly mountPath: string) {}

  async readSettings(): Promise<AgentSettings> {
    return parseSettings(await this.read('user_data'), this.kind);
  }

  async instanceId(): Promise<string | undefined> {
    return parseMetadata(await this.read('meta_data.json'), this.kind).uuid;
  }

  private async read(name: string): Promise<string> {
    const path = join(this.mountPath, 'openstack', 'latest', name);
    try {
      return await readFile(path, 'utf8');
    } catch (error) {
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      throw new SlipwayError(
        missing ? 'NotFound' : 'Internal',
        `cannot read ${path} from the config drive: ${(error as Error).message}`,
        { plugin: PLUGIN, cause: error },
      );
    }
  }
}

function parseSettings(text: string, kind: string): AgentSettings {
  try {
    return decodeAgentSettings(text);
  } catch (error) {
    throw new SlipwayError('InvalidConfig', `the user data from ${kind} is not Slipway agent settings`, {
      plugin: PLUGIN,
      cause: error,
    });
  }
}

function parseMetadata(text: string, kind: string): OpenStackInstanceMetadata {
  try {
    return JSON.parse(text) as OpenStackInstanceMetadata;
  } catch (error) {
    throw new SlipwayError('CloudError', `meta_data.json from ${kind} is not JSON`, { plugin: PLUGIN, cause: error });
  }
}
