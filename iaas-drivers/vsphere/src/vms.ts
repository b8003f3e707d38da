import {
  SlipwayError,
  encodeAgentSettings,
  type CallOptions,
  type CreateVmInput,
  type CreatedVm,
} from '@slipway/contracts';
import { runTask, type VsphereContext } from './context.js';
import { readDevices, readMoRef, type VirtualDeviceInfo } from './decode.js';
import { PLUGIN } from './errors.js';
import {
  AGENT_ID_FIELD,
  GUESTINFO_ENCODING,
  GUESTINFO_USERDATA,
  GUESTINFO_VM_ID,
  REQUEST_ID_FIELD,
  diskIdOfPath,
  vmName,
} from './naming.js';
import type { Placement } from './inventory.js';
import { faultTypeOf } from './session.js';
import { throwIfCancelled } from './signals.js';
import type { MoRef } from './soap.js';
import { cloneSpec, configSpec, removeDisk } from './specs.js';

const POWER_STATES = ['poweredOn', 'poweredOff', 'suspended'] as const;
type PowerState = (typeof POWER_STATES)[number];

/** The VM verbs: clone from the stemcell's template, reconfigure, power on; power off, detach, destroy. */
export class VmOperations {
  constructor(private readonly ctx: VsphereContext) {}

  /**
   * CloneVM_Task (a linked clone when the template has a snapshot), ReconfigVM_Task (CPU, memory, the
   * agent settings as `guestinfo.userdata`), custom fields, PowerOnVM_Task. Idempotent through the VM name,
   * derived from the request id: a VM of that name is resumed where an earlier attempt stopped.
   * A permanent failure destroys the VM; a transient one or an abort keeps it, because the engine's retry
   * with the same request id picks it up (without a request id there is no retry to resume, so it goes too).
   */
  async create(input: CreateVmInput, options: CallOptions = {}): Promise<CreatedVm> {
    const { signal, requestId } = options;
    throwIfCancelled('createVm', signal);
    const name = vmName(requestId);
    const placement = await this.ctx.inventory.placement(signal);
    let vm = await this.ctx.vim.findChild(placement.vmFolder, name, { signal });
    const fresh = !vm;
    vm ??= await this.clone(input, name, placement, signal);
    try {
      await this.prepareAndStart(vm, name, input, requestId, fresh, signal);
    } catch (error) {
      const keep = requestId !== undefined && SlipwayError.is(error) && (error.retryable || error.code === 'Cancelled');
      if (!keep) await this.destroyQuietly(vm, name);
      throw error;
    }
    return { vmId: name, ip: input.network.ip, zone: this.ctx.config.cluster };
  }

  /** PowerOffVM_Task, a ReconfigVM_Task removing the persistent disks (their files stay), Destroy_Task. */
  async delete(vmId: string, options: CallOptions = {}): Promise<void> {
    const { signal } = options;
    const vm = await this.find(vmId, signal);
    if (!vm) return;
    const props = await this.ctx.vim.propertiesOf(
      vm,
      ['runtime.powerState', 'config.hardware.device', 'config.template'],
      { signal },
    );
    if (!props) return;
    if (props.get('config.template')?.text === 'true') {
      throw new SlipwayError('InvalidInput', `${vmId} is a template (a stemcell), not a VM: use deleteStemcell`, {
        plugin: PLUGIN,
        field: 'vmId',
      });
    }
    await this.tolerateGone(async () => {
      if (powerState(props.get('runtime.powerState')?.text) !== 'poweredOff') await this.powerOff(vm, signal);
      await this.detachPersistent(vm, readDevices(props.get('config.hardware.device')), signal);
      await runTask(this.ctx, 'Destroy_Task', this.ctx.vim.destroy(vm, { signal }), { signal });
    });
  }

  async exists(vmId: string, options: CallOptions = {}): Promise<boolean> {
    return (await this.find(vmId, options.signal)) !== undefined;
  }

  /** ResetVM_Task: a hard reset, as a power cycle. */
  async reboot(vmId: string, options: CallOptions = {}): Promise<void> {
    const { signal } = options;
    const vm = await this.require(vmId, signal);
    await runTask(this.ctx, 'ResetVM_Task', this.ctx.vim.resetVm(vm, { signal }), { signal });
  }

  /** Custom attributes, one SetField per key (CustomFieldsManager.AddCustomFieldDef on first use of a key). */
  async setMetadata(vmId: string, metadata: Record<string, string>, options: CallOptions = {}): Promise<void> {
    const { signal } = options;
    const vm = await this.require(vmId, signal);
    await this.ctx.fields.set(vm, metadata, signal);
  }

  /** The VM's managed object, found by name in the VM folder; undefined when there is none. */
  async find(vmId: string, signal?: AbortSignal): Promise<MoRef | undefined> {
    const placement = await this.ctx.inventory.placement(signal);
    return this.ctx.vim.findChild(placement.vmFolder, vmId, { signal });
  }

  async require(vmId: string, signal?: AbortSignal): Promise<MoRef> {
    const vm = await this.find(vmId, signal);
    if (!vm) throw new SlipwayError('NotFound', `vSphere VM ${vmId} does not exist`, { plugin: PLUGIN, field: 'vmId' });
    return vm;
  }

  private async clone(input: CreateVmInput, name: string, placement: Placement, signal?: AbortSignal): Promise<MoRef> {
    const template = await this.ctx.templates.resolve(input.stemcellId, signal);
    const linked = this.ctx.config.linked_clones !== false && template.snapshot !== undefined;
    const spec = cloneSpec({
      location: {
        datastore: placement.datastore,
        pool: placement.pool,
        ...(linked ? { diskMoveType: 'createNewChildDiskBacking' as const } : {}),
      },
      template: false,
      powerOn: false,
      ...(linked ? { snapshot: template.snapshot } : {}),
    });
    try {
      const result = await runTask(
        this.ctx,
        'CloneVM_Task',
        this.ctx.vim.cloneVm(template.ref, placement.vmFolder, name, spec, { signal, permanent: 'VmCreationFailed' }),
        { signal, permanent: 'VmCreationFailed' },
      );
      const vm = readMoRef(result);
      if (!vm)
        throw new SlipwayError(
          'VmCreationFailed',
          `vSphere CloneVM_Task for ${name} succeeded without naming the new VM`,
          { plugin: PLUGIN },
        );
      return vm;
    } catch (error) {
      if (faultTypeOf(error) === 'DuplicateName') {
        // The same request id, cloning at the same time (or a clone whose answer was lost): use that VM.
        const existing = await this.ctx.vim.findChild(placement.vmFolder, name, { signal });
        if (existing) return existing;
        throw new SlipwayError(
          'Conflict',
          `vSphere VM ${name} is being created by another call with the same request id`,
          { plugin: PLUGIN, retryable: true, cause: error },
        );
      }
      // The template may have been replaced or deleted since it was looked up.
      this.ctx.templates.forget(input.stemcellId);
      throw error;
    }
  }

  /** Everything after the clone; each step is safe to run again on a VM an earlier attempt left behind. */
  private async prepareAndStart(
    vm: MoRef,
    name: string,
    input: CreateVmInput,
    requestId: string | undefined,
    fresh: boolean,
    signal?: AbortSignal,
  ): Promise<void> {
    if (!fresh) {
      const props = await this.ctx.vim.propertiesOf(vm, ['runtime.powerState'], { signal });
      if (!props)
        throw new SlipwayError('Retryable', `vSphere VM ${name} disappeared while it was being created`, {
          plugin: PLUGIN,
        });
      // Powering on is the last step, so a running VM is a finished one.
      if (powerState(props.get('runtime.powerState')?.text) !== 'poweredOff') return;
    }
    const spec = configSpec({
      annotation: `Slipway VM of agent ${input.agentId}`,
      numCPUs: input.resources.cpu,
      memoryMB: input.resources.memoryMb,
      extraConfig: {
        [GUESTINFO_USERDATA]: encodeAgentSettings(input.env),
        [GUESTINFO_ENCODING]: 'base64',
        [GUESTINFO_VM_ID]: name,
        // Makes the guest see each VMDK's UUID as its disk serial, so attached disks are found by id.
        'disk.EnableUUID': 'TRUE',
      },
    });
    await runTask(
      this.ctx,
      'ReconfigVM_Task',
      this.ctx.vim.reconfigVm(vm, spec, { signal, permanent: 'VmCreationFailed' }),
      { signal, permanent: 'VmCreationFailed' },
    );
    await this.ctx.fields.set(
      vm,
      {
        ...input.metadata,
        [AGENT_ID_FIELD]: input.agentId,
        ...(requestId ? { [REQUEST_ID_FIELD]: requestId } : {}),
      },
      signal,
    );
    await runTask(this.ctx, 'PowerOnVM_Task', this.ctx.vim.powerOnVm(vm, { signal, permanent: 'VmCreationFailed' }), {
      signal,
      permanent: 'VmCreationFailed',
    });
  }

  private async powerOff(vm: MoRef, signal?: AbortSignal): Promise<void> {
    try {
      await runTask(this.ctx, 'PowerOffVM_Task', this.ctx.vim.powerOffVm(vm, { signal }), { signal });
    } catch (error) {
      // Powered off meanwhile (by the guest or an operator): what we wanted.
      if (faultTypeOf(error) !== 'InvalidPowerState') throw error;
    }
  }

  /** Destroy_Task deletes every disk file of the VM, so the persistent ones are removed from it first. */
  private async detachPersistent(vm: MoRef, devices: VirtualDeviceInfo[], signal?: AbortSignal): Promise<void> {
    const persistent = persistentDisks(this.ctx, devices);
    if (persistent.length === 0) return;
    const deviceChange = persistent.map((d) =>
      removeDisk({ ...d, fileName: d.backing!.fileName!, diskMode: d.backing!.diskMode ?? 'independent_persistent' }),
    );
    await runTask(
      this.ctx,
      'ReconfigVM_Task',
      this.ctx.vim.reconfigVm(vm, configSpec({ deviceChange }), { signal, permanent: 'DiskError' }),
      { signal, permanent: 'DiskError' },
    );
  }

  /** Runs steps on a VM that may vanish meanwhile (killed, deleted by an operator): gone is what delete wants. */
  private async tolerateGone(steps: () => Promise<void>): Promise<void> {
    try {
      await steps();
    } catch (error) {
      if (faultTypeOf(error) !== 'ManagedObjectNotFound') throw error;
    }
  }

  /** Cleanup after a failed create; its own failure is logged, the create's error is what the caller sees. */
  private async destroyQuietly(vm: MoRef, name: string): Promise<void> {
    const signal = AbortSignal.timeout(120_000);
    try {
      await this.tolerateGone(async () => {
        const props = await this.ctx.vim.propertiesOf(vm, ['runtime.powerState'], { signal });
        if (!props) return;
        if (powerState(props.get('runtime.powerState')?.text) !== 'poweredOff') await this.powerOff(vm, signal);
        await runTask(this.ctx, 'Destroy_Task', this.ctx.vim.destroy(vm, { signal }), { signal });
      });
    } catch (cleanup) {
      this.ctx.logger.warn('could not destroy the VM of a failed createVm', { vm: name, error: String(cleanup) });
    }
  }
}

/** The VM's disks that are this driver's persistent disks (in the disk folder of the disk datastore). */
export function persistentDisks(ctx: VsphereContext, devices: VirtualDeviceInfo[]): VirtualDeviceInfo[] {
  const datastore = ctx.config.disk_datastore ?? ctx.config.datastore;
  const folder = ctx.config.disk_folder ?? DEFAULT_DISK_FOLDER;
  return devices.filter(
    (d) =>
      d.type === 'VirtualDisk' &&
      d.backing?.fileName !== undefined &&
      diskIdOfPath(d.backing.fileName, datastore, folder) !== undefined,
  );
}

export const DEFAULT_DISK_FOLDER = 'slipway-disks';

function powerState(text: string | undefined): PowerState {
  return (POWER_STATES as readonly string[]).includes(text ?? '') ? (text as PowerState) : 'poweredOn';
}
