import {
  SlipwayError,
  encodeAgentSettings,
  throwIfAborted,
  type CallOptions,
  type CreateVmInput,
  type CreatedVm,
} from '@slipway/contracts';
import type { ArmResponse } from './arm.js';
import { stringProperty, type AzureContext } from './context.js';
import { PLUGIN, isOperationFailure } from './errors.js';
import { AGENT_ID_TAG, REQUEST_ID_TAG, hasTags, nicNameOf, osDiskNameOf, resourceName, tagsOf } from './naming.js';
import { powerStateOf, type NetworkInterface, type VirtualMachine } from './resources.js';
import type { VmSizeSelector } from './sizes.js';
import { imageReferenceOf } from './stemcells.js';

/** The VM verbs on Microsoft.Compute/virtualMachines and Microsoft.Network/networkInterfaces. */
export class VmOperations {
  constructor(
    private readonly ctx: AzureContext,
    private readonly sizes: VmSizeSelector,
  ) {}

  /**
   * Idempotent by name: the VM, its NIC and its OS disk are named after the request id. A VM that already
   * exists is waited for, not written again (a second PUT would drop tags set since and is refused when
   * osProfile differs). Otherwise: PUT the NIC with the allocated static IP in the configured subnet, then PUT
   * the VM with the agent settings as customData and userData, and follow both operations to the end.
   *
   * Cleanup: a VM whose provisioning failed is deleted with its NIC and OS disk; a permanent refusal of the
   * VM PUT deletes the NIC; a retryable one keeps it, since the engine's retry (same request id) reuses it.
   * An aborted call cleans up nothing: the VM may still come up, and the same request id finds it.
   */
  async create(input: CreateVmInput, options: CallOptions = {}): Promise<CreatedVm> {
    const { signal, requestId } = options;
    throwIfAborted(signal);
    const api = this.ctx.api;
    const name = resourceName('slipway-vm', requestId);
    const existing = await api.get<VirtualMachine>('virtualMachine', name, { signal });
    if (existing) {
      const state = existing.properties.provisioningState;
      if (state === 'Deleting') {
        throw new SlipwayError(
          'Conflict',
          `VM ${name} of request ${requestId} is being deleted; retry once it is gone`,
          { plugin: PLUGIN, retryable: true },
        );
      }
      if (state !== 'Failed')
        return this.provisioned(name, { status: 200, headers: {}, body: existing }, input, undefined, signal);
      // A VM left Failed by an earlier attempt: a PUT provisions it again, as ARM allows.
    }
    const vmSize = await this.sizes.sizeFor(input, signal);
    const tags = tagsOf({ ...input.metadata, [AGENT_ID_TAG]: input.agentId, [REQUEST_ID_TAG]: requestId });
    const nic = await this.putNic(name, input, tags, signal);
    let started;
    try {
      started = await api.beginCreateOrUpdate<VirtualMachine>(
        'virtualMachine',
        name,
        this.vmBody(name, input, vmSize, tags, nic.id),
        { signal },
      );
    } catch (error) {
      if (!signal?.aborted && !(SlipwayError.is(error) && error.retryable)) await this.cleanUp(name, 'nic');
      throw error;
    }
    return this.provisioned(name, started, input, nic, signal);
  }

  /** Deletes the VM (its NIC and OS disk go with it: deleteOption Delete), then a NIC an earlier failed create may have left. */
  async delete(vmId: string, options: CallOptions = {}): Promise<void> {
    const { signal } = options;
    await this.ctx.api.delete('virtualMachine', vmId, { signal });
    await this.ctx.api.delete('networkInterface', nicNameOf(vmId), { signal });
  }

  /** A VM exists in any power state and provisioning state until ARM answers 404. */
  async exists(vmId: string, options: CallOptions = {}): Promise<boolean> {
    return (await this.ctx.api.get<VirtualMachine>('virtualMachine', vmId, { signal: options.signal })) !== undefined;
  }

  /** Restarts a running VM; a stopped or deallocated one (which Azure will not restart) is started instead. */
  async reboot(vmId: string, options: CallOptions = {}): Promise<void> {
    const { signal } = options;
    const vm = await this.ctx.api.get<VirtualMachine>('virtualMachine', vmId, { signal, expand: 'instanceView' });
    if (!vm) throw new SlipwayError('NotFound', `VM ${vmId} does not exist`, { plugin: PLUGIN });
    const power = powerStateOf(vm);
    await this.ctx.api.vmAction(vmId, power === 'deallocated' || power === 'stopped' ? 'start' : 'restart', { signal });
  }

  async setMetadata(vmId: string, metadata: Record<string, string>, options: CallOptions = {}): Promise<void> {
    await this.ctx.api.mergeTags('virtualMachine', vmId, tagsOf(metadata), { signal: options.signal });
  }

  /** VMs of the resource group carrying every pair of `tags` (see README: why not ARM's tag filter). */
  async list(tags: Record<string, string>, signal?: AbortSignal): Promise<VirtualMachine[]> {
    return (await this.ctx.api.list<VirtualMachine>('virtualMachine', { signal })).filter((vm) =>
      hasTags(vm.tags, tags),
    );
  }

  /** Follows the VM's operation to Succeeded; a VM whose provisioning failed is deleted (with its NIC). */
  private async provisioned(
    name: string,
    started: ArmResponse<VirtualMachine>,
    input: CreateVmInput,
    nic: NetworkInterface | undefined,
    signal?: AbortSignal,
  ): Promise<CreatedVm> {
    try {
      const vm = await this.ctx.api.complete('virtualMachine', name, 'PUT', started, 'VirtualMachines_CreateOrUpdate', {
        signal,
        permanent: 'VmCreationFailed',
      });
      return this.createdVm(vm ?? started.body!, input, nic);
    } catch (error) {
      // A throttled or failed poll says nothing about the VM, which may still be provisioning: the retry finds it.
      const failed =
        isOperationFailure(error) || (SlipwayError.is(error) && !error.retryable && error.code !== 'Cancelled');
      if (!signal?.aborted && failed) await this.cleanUp(name, 'vm');
      throw error;
    }
  }

  private async putNic(
    vmName: string,
    input: CreateVmInput,
    tags: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<NetworkInterface> {
    const config = this.ctx.config;
    const subnetId = stringProperty(input.cloudProperties, 'subnet_id') ?? config.subnet_id;
    const nsgId =
      stringProperty(input.cloudProperties, 'network_security_group_id') ?? config.network_security_group_id;
    return this.ctx.api.createOrUpdate<NetworkInterface>(
      'networkInterface',
      nicNameOf(vmName),
      {
        location: config.location,
        tags,
        properties: {
          ipConfigurations: [
            {
              name: 'ipconfig1',
              properties: {
                privateIPAllocationMethod: 'Static',
                privateIPAddress: input.network.ip,
                subnet: { id: subnetId },
                primary: true,
              },
            },
          ],
          ...(nsgId ? { networkSecurityGroup: { id: nsgId } } : {}),
        },
      },
      { signal, permanent: 'VmCreationFailed' },
    );
  }

  private vmBody(
    name: string,
    input: CreateVmInput,
    vmSize: string,
    tags: Record<string, string>,
    nicId: string,
  ): unknown {
    const config = this.ctx.config;
    const adminUsername = config.admin_username ?? 'slipway';
    const settings = encodeAgentSettings(input.env);
    const zone = input.zone ?? stringProperty(input.cloudProperties, 'zone');
    const rootDiskGb = input.cloudProperties?.root_disk_size_gb;
    return {
      location: config.location,
      tags,
      ...(zone ? { zones: [zone] } : {}),
      properties: {
        hardwareProfile: { vmSize },
        storageProfile: {
          imageReference: imageReferenceOf(input.stemcellId, this.ctx.api),
          osDisk: {
            name: osDiskNameOf(name),
            createOption: 'FromImage',
            caching: 'ReadWrite',
            deleteOption: 'Delete',
            managedDisk: {
              storageAccountType:
                stringProperty(input.cloudProperties, 'storage_account_type') ??
                config.storage_account_type ??
                'StandardSSD_LRS',
            },
            ...(typeof rootDiskGb === 'number' ? { diskSizeGB: rootDiskGb } : {}),
          },
          dataDisks: [],
        },
        osProfile: {
          computerName: name,
          adminUsername,
          // The Linux agent (waagent / cloud-init) writes customData to /var/lib/waagent/CustomData at provisioning.
          customData: settings,
          linuxConfiguration: {
            disablePasswordAuthentication: true,
            ssh: {
              publicKeys: [{ path: `/home/${adminUsername}/.ssh/authorized_keys`, keyData: config.ssh_public_key }],
            },
            provisionVMAgent: true,
          },
        },
        networkProfile: { networkInterfaces: [{ id: nicId, properties: { primary: true, deleteOption: 'Delete' } }] },
        // userData is what IMDS serves (/metadata/instance/compute/userData), for the VM's whole life: the agent reads it there.
        userData: settings,
      },
    };
  }

  private createdVm(vm: VirtualMachine, input: CreateVmInput, nic?: NetworkInterface): CreatedVm {
    const ip = nic?.properties.ipConfigurations[0]?.properties.privateIPAddress ?? input.network.ip;
    return { vmId: vm.name, ip, ...(vm.zones?.[0] ? { zone: vm.zones[0] } : {}) };
  }

  /** Best effort: the error that made the create fail is what the caller sees. */
  private async cleanUp(name: string, from: 'vm' | 'nic'): Promise<void> {
    try {
      if (from === 'vm') await this.ctx.api.delete('virtualMachine', name);
      await this.ctx.api.delete('networkInterface', nicNameOf(name));
    } catch (error) {
      this.ctx.logger.warn('could not clean up after a failed createVm', { vm: name, error: String(error) });
    }
  }
}
