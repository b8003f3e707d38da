import { SlipwayError } from '@slipway/contracts';
import type { VsphereConfig } from './config.js';
import { readMoRef } from './decode.js';
import { PLUGIN } from './errors.js';
import { Memo, withSignal } from './signals.js';
import type { MoRef } from './soap.js';
import type { Vim } from './vim.js';

/** Where the driver puts things, resolved from the config's inventory paths once per driver. */
export interface Placement {
  datacenter: MoRef;
  /** The datacenter's inventory path, the prefix of every other path. */
  datacenterPath: string;
  vmFolder: MoRef;
  templateFolder: MoRef;
  /** Inventory path of the template folder, for templates found by name. */
  templateFolderPath: string;
  pool: MoRef;
  datastore: MoRef;
  diskDatastore: MoRef;
  diskDatastoreName: string;
  /** The disk datastore's HostDatastoreBrowser. */
  diskBrowser: MoRef;
}

/**
 * Resolves the datacenter, folders, resource pool and datastores through SearchIndex.FindByInventoryPath.
 * The lookup is shared by concurrent first calls and cached; a failed one is tried again by the next call.
 */
export class Inventory {
  private readonly placementMemo: Memo<Placement>;

  constructor(
    private readonly vim: Vim,
    private readonly config: Readonly<VsphereConfig>,
  ) {
    // Shared by callers with different signals: it runs on its own deadline (see withSignal).
    this.placementMemo = new Memo(() => this.resolve(AbortSignal.timeout(120_000)));
  }

  placement(signal?: AbortSignal): Promise<Placement> {
    return withSignal(this.placementMemo.get(), signal, 'inventory lookup');
  }

  /** The inventory path of a VM or template below the datacenter's `vm` folder. */
  vmPath(relative: string): string {
    return `${this.config.datacenter}/vm/${relative}`;
  }

  private async resolve(signal: AbortSignal): Promise<Placement> {
    const c = this.config;
    const dc = c.datacenter;
    const datacenter = await this.find(dc, 'datacenter', 'Datacenter', signal);
    const vmFolderPath = c.vm_folder ? `${dc}/vm/${c.vm_folder}` : `${dc}/vm`;
    const templateFolderPath = c.template_folder ? `${dc}/vm/${c.template_folder}` : vmFolderPath;
    const poolPath = `${dc}/host/${c.cluster}/Resources${c.resource_pool ? `/${c.resource_pool}` : ''}`;
    const diskDatastoreName = c.disk_datastore ?? c.datastore;
    const [vmFolder, templateFolder, pool, datastore, diskDatastore] = await Promise.all([
      this.find(vmFolderPath, c.vm_folder ? 'vm_folder' : 'datacenter', 'Folder', signal),
      this.find(
        templateFolderPath,
        c.template_folder ? 'template_folder' : c.vm_folder ? 'vm_folder' : 'datacenter',
        'Folder',
        signal,
      ),
      this.find(poolPath, c.resource_pool ? 'resource_pool' : 'cluster', 'ResourcePool', signal),
      this.find(`${dc}/datastore/${c.datastore}`, 'datastore', 'Datastore', signal),
      this.find(
        `${dc}/datastore/${diskDatastoreName}`,
        c.disk_datastore ? 'disk_datastore' : 'datastore',
        'Datastore',
        signal,
      ),
    ]);
    const props = await this.vim.propertiesOf(diskDatastore, ['browser'], { signal });
    const diskBrowser = readMoRef(props?.get('browser'));
    if (!diskBrowser)
      throw new SlipwayError('CloudError', `vSphere datastore ${diskDatastoreName} has no datastore browser`, {
        plugin: PLUGIN,
      });
    return {
      datacenter,
      datacenterPath: dc,
      vmFolder,
      templateFolder,
      templateFolderPath,
      pool,
      datastore,
      diskDatastore,
      diskDatastoreName,
      diskBrowser,
    };
  }

  private async find(path: string, field: keyof VsphereConfig, type: string, signal: AbortSignal): Promise<MoRef> {
    const found = await this.vim.findByInventoryPath(path, { signal });
    if (!found) {
      throw new SlipwayError('InvalidConfig', `vSphere has nothing at inventory path "${path}" (config ${field})`, {
        plugin: PLUGIN,
        field,
        hint: `Check ${field} against the vSphere Client's inventory (govc ls ${path.split('/').slice(0, -1).join('/') || '/'} lists what is there).`,
      });
    }
    // A cluster named where a pool is expected and the like: vCenter answers with whatever sits at that path.
    if (found.type !== type && !(type === 'ResourcePool' && found.type === 'VirtualApp')) {
      throw new SlipwayError(
        'InvalidConfig',
        `vSphere inventory path "${path}" (config ${field}) is a ${found.type}, not a ${type}`,
        { plugin: PLUGIN, field },
      );
    }
    return found;
  }
}
