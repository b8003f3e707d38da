import {
  SlipwayError,
  encodeAgentSettings,
  type CallOptions,
  type CloudInventory,
  type CreateVmInput,
  type CreatedVm,
} from '@slipway/contracts';
import { numberProperty, stringListProperty, stringProperty, type GcpContext } from './context.js';
import { PLUGIN, throwIfCancelled } from './errors.js';
import { imageOfStemcell, type ImageCatalog } from './images.js';
import { SETTINGS_ATTRIBUTE } from './metadata.js';
import { labelFilter, labelsOf, metadataOf } from './labels.js';
import { lastSegment, parseZonalId, resourceName, zonalId, type ZonalRef } from './names.js';
import type { Instance } from './resources.js';

export const AGENT_ID_LABEL = 'slipway.agent_id';
export const REQUEST_ID_LABEL = 'slipway.request_id';

/** Scopes a VM's service account gets: access is decided by its IAM roles, as Google recommends. */
const VM_SCOPES = ['https://www.googleapis.com/auth/cloud-platform'];

/** The VM verbs on Compute Engine instances. */
export class VmOperations {
  constructor(
    private readonly ctx: GcpContext,
    private readonly images: ImageCatalog,
  ) {}

  /**
   * `instances.insert` with the settings as instance metadata, then waits for its zone operation. Twice
   * idempotent: the requestId makes GCE answer a repeat with the first operation, and the name derived from
   * the request id makes a repeat after GCE's window fail with alreadyExists, which finds the same VM.
   */
  async create(input: CreateVmInput, options: CallOptions = {}): Promise<CreatedVm> {
    const { signal, requestId } = options;
    throwIfCancelled(signal);
    const { client, config } = this.ctx;
    const properties = input.cloudProperties;
    const zone = input.zone ?? stringProperty(properties, 'zone') ?? config.zone;
    const ref: ZonalRef = { zone, name: resourceName('slipway-vm', requestId) };
    const machineType =
      stringProperty(properties, 'machine_type') ??
      input.resources.instanceType ??
      (await this.ctx.machineTypes.choose(zone, input.resources, signal));
    const image = imageOfStemcell(input.stemcellId, this.ctx.project);
    const bootGb =
      numberProperty(properties, 'root_disk_size_gb') ??
      (await this.images.sizeGb(image, signal)) + Math.ceil(Math.max(0, input.resources.ephemeralDiskMb) / 1024);
    const body = this.instanceBody(input, ref, machineType, image, bootGb, requestId);
    try {
      await this.ctx.operations.run({
        method: 'instances.insert',
        permanent: 'VmCreationFailed',
        signal,
        ...(requestId ? { idempotencyKey: `createVm:${zone}:${requestId}` } : {}),
        send: (gceRequestId) =>
          client.startOperation('instances.insert', `/zones/${zone}/instances`, {
            requestId: gceRequestId,
            json: body,
            signal,
            permanent: 'VmCreationFailed',
          }),
      });
    } catch (error) {
      const repeated = requestId !== undefined && SlipwayError.is(error, 'AlreadyExists');
      if (!repeated) {
        // Only a failed operation can have left an instance behind; a refused request created nothing.
        if (SlipwayError.is(error) && error.details?.operation) await this.cleanUpFailed(ref);
        throw error;
      }
    }
    const instance = await this.get(ref, signal);
    if (!instance)
      throw new SlipwayError('VmCreationFailed', `instance ${zonalId(ref)} disappeared right after its creation`, {
        plugin: PLUGIN,
        retryable: true,
      });
    const ip = instance.networkInterfaces?.[0]?.networkIP;
    return { vmId: zonalId(ref), zone, ...(ip ? { ip } : {}) };
  }

  /** `instances.delete`; the operation is DONE once the instance is gone and its persistent disks detached. */
  async delete(vmId: string, options: CallOptions = {}): Promise<void> {
    const ref = parseZonalId(vmId, 'vmId');
    try {
      await this.ctx.operations.run({
        method: 'instances.delete',
        permanent: 'CloudError',
        signal: options.signal,
        ...(options.requestId ? { idempotencyKey: `deleteVm:${vmId}:${options.requestId}` } : {}),
        send: (gceRequestId) =>
          this.ctx.client.startOperation('instances.delete', `/zones/${ref.zone}/instances/${ref.name}`, {
            requestId: gceRequestId,
            signal: options.signal,
            http: 'DELETE',
          }),
      });
    } catch (error) {
      if (!SlipwayError.is(error, 'NotFound')) throw error;
    }
  }

  /**
   * An instance exists unless GCE answers 404 or shows it TERMINATED: Slipway never stops a VM itself, so
   * a TERMINATED instance is one GCE or its guest shut down (host failure, preemption), and runs nothing.
   * deleteVm still removes it.
   */
  async exists(vmId: string, options: CallOptions = {}): Promise<boolean> {
    const instance = await this.get(parseZonalId(vmId, 'vmId'), options.signal);
    return instance !== undefined && instance.status !== 'TERMINATED';
  }

  /** `instances.reset`: a hard reset, as pressing the power button; the instance stays RUNNING. */
  async reboot(vmId: string, options: CallOptions = {}): Promise<void> {
    const ref = parseZonalId(vmId, 'vmId');
    await this.ctx.operations.run({
      method: 'instances.reset',
      permanent: 'CloudError',
      signal: options.signal,
      ...(options.requestId ? { idempotencyKey: `rebootVm:${vmId}:${options.requestId}` } : {}),
      send: (gceRequestId) =>
        this.ctx.client.startOperation('instances.reset', `/zones/${ref.zone}/instances/${ref.name}/reset`, {
          requestId: gceRequestId,
          signal: options.signal,
        }),
    });
  }

  /**
   * Merges labels with `instances.setLabels`, which replaces them all and needs the current
   * `labelFingerprint`: a concurrent change makes GCE answer 412, a retryable Conflict.
   */
  async setMetadata(vmId: string, metadata: Record<string, string>, options: CallOptions = {}): Promise<void> {
    const { signal } = options;
    const ref = parseZonalId(vmId, 'vmId');
    const instance = await this.get(ref, signal);
    if (!instance) throw new SlipwayError('NotFound', `instance ${vmId} does not exist`, { plugin: PLUGIN });
    const labels = { ...instance.labels, ...labelsOf(metadata) };
    await this.ctx.operations.run({
      method: 'instances.setLabels',
      permanent: 'CloudError',
      signal,
      send: () =>
        this.ctx.client.startOperation('instances.setLabels', `/zones/${ref.zone}/instances/${ref.name}/setLabels`, {
          json: { labels, labelFingerprint: instance.labelFingerprint },
          signal,
        }),
    });
  }

  /** Instances carrying every tag, across zones (`aggregated/instances` with a label filter). */
  async list(tags: Record<string, string>, signal?: AbortSignal): Promise<CloudInventory['vms']> {
    const instances = await this.ctx.client.listAll<Instance>({
      method: 'instances.aggregatedList',
      path: this.ctx.client.projectPath('/aggregated/instances'),
      query: { filter: labelFilter(tags) },
      aggregatedKey: 'instances',
      signal,
    });
    return instances.map((i) => ({
      vmId: zonalId({ zone: lastSegment(i.zone), name: i.name }),
      metadata: metadataOf(i.labels),
      state: i.status,
    }));
  }

  async get(ref: ZonalRef, signal?: AbortSignal): Promise<Instance | undefined> {
    return this.ctx.client.request<Instance>({
      method: 'instances.get',
      path: this.ctx.client.projectPath(`/zones/${ref.zone}/instances/${ref.name}`),
      signal,
      notFoundOk: true,
    });
  }

  private instanceBody(
    input: CreateVmInput,
    ref: ZonalRef,
    machineType: string,
    image: string,
    bootGb: number,
    requestId: string | undefined,
  ): Record<string, unknown> {
    const { config, project } = this.ctx;
    const properties = input.cloudProperties;
    const network = networkReference(
      stringProperty(properties, 'network') ?? config.network ?? 'default',
      project,
      'networks',
    );
    const subnetworkName = stringProperty(properties, 'subnetwork') ?? config.subnetwork;
    const tags = [...new Set([...(config.network_tags ?? []), ...(stringListProperty(properties, 'tags') ?? [])])];
    const preemptible = properties?.preemptible === true;
    const serviceAccount = stringProperty(properties, 'service_account') ?? config.vm_service_account;
    const diskType = stringProperty(properties, 'root_disk_type') ?? config.disk_type ?? 'pd-balanced';
    return {
      name: ref.name,
      machineType: machineType.includes('/') ? machineType : `zones/${ref.zone}/machineTypes/${machineType}`,
      labels: labelsOf({ ...input.metadata, [AGENT_ID_LABEL]: input.agentId, [REQUEST_ID_LABEL]: requestId }),
      // The agent reads this back from the metadata server; GCE serves item values verbatim.
      metadata: { items: [{ key: SETTINGS_ATTRIBUTE, value: encodeAgentSettings(input.env) }] },
      disks: [
        {
          boot: true,
          autoDelete: true,
          type: 'PERSISTENT',
          mode: 'READ_WRITE',
          initializeParams: {
            sourceImage: image,
            diskSizeGb: String(bootGb),
            diskType: `zones/${ref.zone}/diskTypes/${diskType}`,
          },
        },
      ],
      networkInterfaces: [
        {
          network,
          ...(subnetworkName ? { subnetwork: networkReference(subnetworkName, project, 'subnetworks') } : {}),
          networkIP: input.network.ip,
          ...(properties?.ephemeral_external_ip === true
            ? { accessConfigs: [{ type: 'ONE_TO_ONE_NAT', name: 'External NAT' }] }
            : {}),
        },
      ],
      ...(tags.length > 0 ? { tags: { items: tags } } : {}),
      scheduling: preemptible
        ? { preemptible: true, automaticRestart: false, onHostMaintenance: 'TERMINATE' }
        : { automaticRestart: true, onHostMaintenance: 'MIGRATE' },
      ...(serviceAccount ? { serviceAccounts: [{ email: serviceAccount, scopes: VM_SCOPES }] } : {}),
    };
  }

  /**
   * A failed insert usually leaves nothing; when it left an instance, it is deleted (the contract: clean up),
   * and waited for, so the engine's retry (same name) does not find the instance on its way out.
   */
  private async cleanUpFailed(ref: ZonalRef): Promise<void> {
    try {
      if (!(await this.get(ref))) return;
      await this.ctx.operations.wait(
        await this.ctx.client.startOperation('instances.delete', `/zones/${ref.zone}/instances/${ref.name}`, {
          http: 'DELETE',
        }),
      );
    } catch (cleanup) {
      this.ctx.logger.warn('could not delete the instance of a failed insert', {
        vmId: zonalId(ref),
        error: String(cleanup),
      });
    }
  }
}

/** `projects/P/global/networks/N` or `projects/P/regions/R/subnetworks/S` from a name or a partial URL. */
function networkReference(text: string, project: string, kind: 'networks' | 'subnetworks'): string {
  const at = text.indexOf('projects/');
  if (at >= 0) return text.slice(at);
  if (text.includes('/')) return `projects/${project}/${text.replace(/^\/+/, '')}`;
  if (kind === 'networks') return `projects/${project}/global/networks/${text}`;
  throw new SlipwayError('InvalidConfig', `subnetwork "${text}" must be regions/REGION/subnetworks/NAME`, {
    plugin: PLUGIN,
    field: 'subnetwork',
  });
}
