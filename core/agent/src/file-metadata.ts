import { readFile } from 'node:fs/promises';
import {
  SlipwayError,
  decodeAgentSettings,
  type AgentSettings,
  type DiskLocation,
  type MetadataSource,
} from '@slipway/contracts';

/**
 * What a `meta-data.json` beside the user data may say: the VM's id and address as its host knows them and
 * where its attached disks are. The local driver writes it; a config-drive image could too.
 */
export interface FileMetaData {
  instanceId?: string;
  /** The address the VM really has; it wins over the one in the settings (as a DHCP lease would). */
  network?: { ip?: string };
  disks?: Record<string, DiskLocation>;
}

/**
 * Settings from a file: the user data as the control plane wrote it (JSON or base64 of it), and an optional
 * meta-data file read on every call, so disks attached after boot are found.
 */
export class FileMetadataSource implements MetadataSource {
  readonly kind = 'file';

  constructor(
    private readonly userDataPath: string,
    private readonly metaDataPath?: string,
  ) {}

  async readSettings(): Promise<AgentSettings> {
    let text: string;
    try {
      text = await readFile(this.userDataPath, 'utf8');
    } catch (error) {
      throw new SlipwayError(
        'NotFound',
        `cannot read the agent settings from ${this.userDataPath}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    let settings: AgentSettings;
    try {
      settings = decodeAgentSettings(text);
    } catch (error) {
      throw new SlipwayError('InvalidConfig', `${this.userDataPath} does not hold Slipway agent settings`, {
        cause: error,
      });
    }
    const ip = (await this.metaData())?.network?.ip;
    return ip ? { ...settings, network: { ...settings.network, ip } } : settings;
  }

  async instanceId(): Promise<string | undefined> {
    return (await this.metaData())?.instanceId;
  }

  async locateDisk(diskId: string): Promise<DiskLocation | undefined> {
    return (await this.metaData())?.disks?.[diskId];
  }

  private async metaData(): Promise<FileMetaData | undefined> {
    if (!this.metaDataPath) return undefined;
    try {
      return JSON.parse(await readFile(this.metaDataPath, 'utf8')) as FileMetaData;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      // Written while we read it: the next call sees the whole file.
      if (error instanceof SyntaxError) return undefined;
      throw error;
    }
  }
}
