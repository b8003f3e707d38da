import { SlipwayError } from '@slipway/contracts';
import { readFieldDef, readMoRef, readObjectContents, type CustomFieldDef, type ObjectProperties } from './decode.js';
import { PLUGIN } from './errors.js';
import { faultTypeOf, type CallOptions, type ServiceContent, type VimSession } from './session.js';
import { data, type MoRef, type SoapData, type SoapValue } from './soap.js';
import { propertyFilter } from './specs.js';
import { child, childText, type XmlElement } from './xml.js';

/**
 * The vim25 methods the driver calls, one typed function each, named after the method. Methods ending in
 * `_Task` return the Task; tasks.ts waits for it.
 */
export class Vim {
  constructor(readonly session: VimSession) {}

  content(signal?: AbortSignal): Promise<ServiceContent> {
    return this.session.serviceContent(signal);
  }

  /** PropertyCollector.RetrievePropertiesEx (and ContinueRetrievePropertiesEx while a token comes back). */
  async retrieveProperties(
    type: string,
    paths: readonly string[],
    objects: readonly MoRef[],
    options: CallOptions = {},
  ): Promise<ObjectProperties[]> {
    const { propertyCollector } = await this.content(options.signal);
    const response = await this.session.call(
      'RetrievePropertiesEx',
      propertyCollector,
      {
        specSet: [propertyFilter(type, paths, objects)],
        options: data('RetrieveOptions', {}),
      },
      options,
    );
    let result = child(response, 'returnval');
    const found = readObjectContents(result);
    for (let token = childText(result, 'token'); token; token = childText(result, 'token')) {
      const next = await this.session.call('ContinueRetrievePropertiesEx', propertyCollector, { token }, options);
      result = child(next, 'returnval');
      found.push(...readObjectContents(result));
    }
    return found;
  }

  /** The properties of one object; `undefined` when vCenter says it no longer exists (ManagedObjectNotFound). */
  async propertiesOf(
    obj: MoRef,
    paths: readonly string[],
    options: CallOptions = {},
  ): Promise<Map<string, XmlElement> | undefined> {
    try {
      const [found] = await this.retrieveProperties(obj.type, paths, [obj], options);
      return found?.props ?? new Map();
    } catch (error) {
      if (faultTypeOf(error) === 'ManagedObjectNotFound') return undefined;
      throw error;
    }
  }

  /** SearchIndex.FindByInventoryPath: `dc/vm/folder/name`, `dc/host/cluster/Resources/pool`, `dc/datastore/ds`. */
  async findByInventoryPath(inventoryPath: string, options: CallOptions = {}): Promise<MoRef | undefined> {
    const { searchIndex } = await this.content(options.signal);
    return readMoRef(
      child(await this.session.call('FindByInventoryPath', searchIndex, { inventoryPath }, options), 'returnval'),
    );
  }

  /** SearchIndex.FindChild: the direct child of a folder (or datacenter...) with that name. */
  async findChild(entity: MoRef, name: string, options: CallOptions = {}): Promise<MoRef | undefined> {
    const { searchIndex } = await this.content(options.signal);
    return readMoRef(child(await this.session.call('FindChild', searchIndex, { entity, name }, options), 'returnval'));
  }

  cloneVm(vm: MoRef, folder: MoRef, name: string, spec: SoapData, options: CallOptions = {}): Promise<MoRef> {
    return this.task('CloneVM_Task', vm, { folder, name, spec }, options);
  }

  reconfigVm(vm: MoRef, spec: SoapData, options: CallOptions = {}): Promise<MoRef> {
    return this.task('ReconfigVM_Task', vm, { spec }, options);
  }

  powerOnVm(vm: MoRef, options: CallOptions = {}): Promise<MoRef> {
    return this.task('PowerOnVM_Task', vm, {}, options);
  }

  powerOffVm(vm: MoRef, options: CallOptions = {}): Promise<MoRef> {
    return this.task('PowerOffVM_Task', vm, {}, options);
  }

  resetVm(vm: MoRef, options: CallOptions = {}): Promise<MoRef> {
    return this.task('ResetVM_Task', vm, {}, options);
  }

  destroy(entity: MoRef, options: CallOptions = {}): Promise<MoRef> {
    return this.task('Destroy_Task', entity, {}, options);
  }

  createSnapshot(vm: MoRef, name: string, description: string, options: CallOptions = {}): Promise<MoRef> {
    return this.task('CreateSnapshot_Task', vm, { name, description, memory: false, quiesce: false }, options);
  }

  async markAsTemplate(vm: MoRef, options: CallOptions = {}): Promise<void> {
    await this.session.call('MarkAsTemplate', vm, {}, options);
  }

  async createVirtualDisk(name: string, datacenter: MoRef, spec: SoapData, options: CallOptions = {}): Promise<MoRef> {
    const { virtualDiskManager } = await this.content(options.signal);
    return this.task('CreateVirtualDisk_Task', virtualDiskManager, { name, datacenter, spec }, options);
  }

  async deleteVirtualDisk(name: string, datacenter: MoRef, options: CallOptions = {}): Promise<MoRef> {
    const { virtualDiskManager } = await this.content(options.signal);
    return this.task('DeleteVirtualDisk_Task', virtualDiskManager, { name, datacenter }, options);
  }

  async extendVirtualDisk(
    name: string,
    datacenter: MoRef,
    newCapacityKb: number,
    options: CallOptions = {},
  ): Promise<MoRef> {
    const { virtualDiskManager } = await this.content(options.signal);
    return this.task(
      'ExtendVirtualDisk_Task',
      virtualDiskManager,
      { name, datacenter, newCapacityKb, eagerZero: false },
      options,
    );
  }

  /** FileManager.MakeDirectory; an existing directory is not an error here. */
  async makeDirectory(name: string, datacenter: MoRef, options: CallOptions = {}): Promise<void> {
    const { fileManager } = await this.content(options.signal);
    try {
      await this.session.call(
        'MakeDirectory',
        fileManager,
        { name, datacenter, createParentDirectories: true },
        options,
      );
    } catch (error) {
      if (faultTypeOf(error) !== 'FileAlreadyExists') throw error;
    }
  }

  searchDatastore(
    browser: MoRef,
    datastorePath: string,
    searchSpec: SoapData,
    options: CallOptions = {},
  ): Promise<MoRef> {
    return this.task('SearchDatastore_Task', browser, { datastorePath, searchSpec }, options);
  }

  async addCustomFieldDef(name: string, moType: string, options: CallOptions = {}): Promise<CustomFieldDef> {
    const { customFieldsManager } = await this.content(options.signal);
    const response = await this.session.call('AddCustomFieldDef', customFieldsManager, { name, moType }, options);
    const def = child(response, 'returnval');
    if (!def)
      throw new SlipwayError('CloudError', `vSphere AddCustomFieldDef ${name} returned no definition`, {
        plugin: PLUGIN,
      });
    return readFieldDef(def);
  }

  async setField(entity: MoRef, key: number, value: string, options: CallOptions = {}): Promise<void> {
    const { customFieldsManager } = await this.content(options.signal);
    await this.session.call('SetField', customFieldsManager, { entity, key, value }, options);
  }

  private async task(
    method: string,
    self: MoRef,
    args: Record<string, SoapValue>,
    options: CallOptions,
  ): Promise<MoRef> {
    const task = readMoRef(child(await this.session.call(method, self, args, options), 'returnval'));
    if (!task) throw new SlipwayError('CloudError', `vSphere ${method} returned no Task`, { plugin: PLUGIN });
    return task;
  }
}
