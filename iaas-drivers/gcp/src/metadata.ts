import { SlipwayError, decodeAgentSettings, type AgentSettings, type MetadataSource } from '@slipway/contracts';

const PLUGIN = '@slipway/iaas-gcp';

/** The metadata server every GCE guest reaches (also at 169.254.169.254). */
export const GCE_METADATA_URL = 'http://metadata.google.internal';

/** The instance attribute the driver writes the agent's settings to; `user-data` (cloud-init's key) is read when it is absent. */
export const SETTINGS_ATTRIBUTE = 'slipway-agent-settings';
const FALLBACK_ATTRIBUTE = 'user-data';

/**
 * The agent's settings from the GCE metadata server: `GET /computeMetadata/v1/instance/attributes/KEY`
 * answers an instance metadata item's value verbatim. Every request carries `Metadata-Flavor: Google`
 * (the server refuses requests without it, so a browser or a proxied request cannot read the metadata),
 * and an answer without that header did not come from the metadata server and is refused.
 */
export class GceMetadataServer implements MetadataSource {
  readonly kind = 'gce-metadata';
  private readonly base: string;

  /** `baseUrl`: the metadata server's root; a fake serves each VM's view under its own prefix. */
  constructor(baseUrl: string = GCE_METADATA_URL) {
    this.base = `${baseUrl.replace(/\/+$/, '')}/computeMetadata/v1`;
  }

  async readSettings(signal?: AbortSignal): Promise<AgentSettings> {
    const text =
      (await this.attribute(SETTINGS_ATTRIBUTE, signal)) ?? (await this.attribute(FALLBACK_ATTRIBUTE, signal));
    if (text === undefined) {
      throw new SlipwayError(
        'NotFound',
        `the GCE metadata server has neither instance attribute ${SETTINGS_ATTRIBUTE} nor ${FALLBACK_ATTRIBUTE} (was the VM created by Slipway?)`,
        { plugin: PLUGIN },
      );
    }
    try {
      return decodeAgentSettings(text);
    } catch (error) {
      throw new SlipwayError(
        'InvalidConfig',
        `instance attribute ${SETTINGS_ATTRIBUTE} is not Slipway agent settings`,
        { plugin: PLUGIN, cause: error },
      );
    }
  }

  /** The instance's numeric id (`/instance/id`), as GCE knows it. */
  async instanceId(signal?: AbortSignal): Promise<string | undefined> {
    return (await this.get('/instance/id', signal))?.trim();
  }

  /** The driver's id of this VM, `ZONE/NAME`, from `/instance/zone` (`projects/NUMBER/zones/ZONE`) and `/instance/name`. */
  async vmId(signal?: AbortSignal): Promise<string | undefined> {
    const [zone, name] = await Promise.all([this.get('/instance/zone', signal), this.get('/instance/name', signal)]);
    return zone && name ? `${zone.slice(zone.lastIndexOf('/') + 1)}/${name.trim()}` : undefined;
  }

  /** One custom metadata value, or undefined when the instance has no such key. */
  attribute(key: string, signal?: AbortSignal): Promise<string | undefined> {
    return this.get(`/instance/attributes/${encodeURIComponent(key)}`, signal);
  }

  private async get(path: string, signal?: AbortSignal): Promise<string | undefined> {
    let response: Response;
    try {
      response = await fetch(this.base + path, { signal, headers: { 'metadata-flavor': 'Google' } });
    } catch (error) {
      if (signal?.aborted)
        throw new SlipwayError('Cancelled', 'reading the GCE metadata server was aborted', {
          plugin: PLUGIN,
          cause: error,
        });
      // The metadata server answers once the guest's network is up: worth trying again.
      throw new SlipwayError(
        'Retryable',
        `cannot reach the GCE metadata server at ${this.base}: ${(error as Error).message}`,
        { plugin: PLUGIN, cause: error },
      );
    }
    const text = await response.text();
    if (response.status === 404) return undefined;
    if (!response.ok) {
      throw new SlipwayError(
        response.status >= 500 ? 'Retryable' : 'CloudError',
        `GCE metadata server ${path}: ${response.status} ${text
          .replace(/<[^>]+>/g, ' ')
          .replace(/\s+/g, ' ')
          .trim()
          .slice(0, 200)}`,
        { plugin: PLUGIN },
      );
    }
    if (response.headers.get('metadata-flavor') !== 'Google') {
      throw new SlipwayError(
        'CloudError',
        `${this.base}${path} answered without Metadata-Flavor: Google; it is not a GCE metadata server`,
        { plugin: PLUGIN },
      );
    }
    return text;
  }
}
