import { API_VERSIONS } from './api-versions.js';
import type { ArmClient, ArmResponse } from './arm.js';
import type { MarketplaceImage } from './config.js';
import type { PermanentCode } from './errors.js';
import { completeOperation, type LroContext } from './lro.js';
import type { ArmResource, VmSize } from './resources.js';

/** The resource types the driver manages, with their provider path, api-version and operationId prefix. */
const KINDS = {
  virtualMachine: {
    path: 'Microsoft.Compute/virtualMachines',
    apiVersion: API_VERSIONS.compute,
    operations: 'VirtualMachines',
    list: 'VirtualMachines_List',
  },
  disk: {
    path: 'Microsoft.Compute/disks',
    apiVersion: API_VERSIONS.disks,
    operations: 'Disks',
    list: 'Disks_ListByResourceGroup',
  },
  snapshot: {
    path: 'Microsoft.Compute/snapshots',
    apiVersion: API_VERSIONS.disks,
    operations: 'Snapshots',
    list: 'Snapshots_ListByResourceGroup',
  },
  image: {
    path: 'Microsoft.Compute/images',
    apiVersion: API_VERSIONS.compute,
    operations: 'Images',
    list: 'Images_ListByResourceGroup',
  },
  networkInterface: {
    path: 'Microsoft.Network/networkInterfaces',
    apiVersion: API_VERSIONS.network,
    operations: 'NetworkInterfaces',
    list: 'NetworkInterfaces_List',
  },
} as const;
export type ResourceKind = keyof typeof KINDS;

type Options = { signal?: AbortSignal; permanent?: PermanentCode };

/**
 * The ARM REST operations the driver makes, one method per operation of the Azure REST API reference, each
 * with its resource type's api-version. Writes are long-running: `createOrUpdate`, `update`, `delete` and
 * `action` return when the operation has finished (see lro.ts); `begin*` returns ARM's first answer.
 */
export class ArmResources {
  constructor(
    private readonly arm: ArmClient,
    private readonly lro: LroContext,
    readonly subscriptionId: string,
    readonly resourceGroup: string,
  ) {}

  /** `/subscriptions/{sub}/resourceGroups/{rg}/providers/{type}/{name}`. */
  id(kind: ResourceKind, name: string): string {
    return `${this.groupPath()}/providers/${KINDS[kind].path}/${encodeURIComponent(name)}`;
  }

  async get<T extends ArmResource<unknown>>(
    kind: ResourceKind,
    name: string,
    options: Options & { expand?: string } = {},
  ): Promise<T | undefined> {
    const response = await this.arm.request<T>({
      operation: `${KINDS[kind].operations}_Get`,
      path: this.id(kind, name),
      apiVersion: KINDS[kind].apiVersion,
      query: { $expand: options.expand },
      notFoundOk: true,
      signal: options.signal,
    });
    return response?.body;
  }

  /** A resource by its full id (an operator's image), read with `kind`'s api-version. */
  async getById<T extends ArmResource<unknown>>(
    kind: ResourceKind,
    id: string,
    options: Options = {},
  ): Promise<T | undefined> {
    const response = await this.arm.request<T>({
      operation: `${KINDS[kind].operations}_Get`,
      path: id,
      apiVersion: KINDS[kind].apiVersion,
      notFoundOk: true,
      signal: options.signal,
    });
    return response?.body;
  }

  /** PUT, ARM's first answer (201/200 with the resource, and an operation to follow). */
  async beginCreateOrUpdate<T>(
    kind: ResourceKind,
    name: string,
    body: unknown,
    options: Options = {},
  ): Promise<ArmResponse<T>> {
    const response = await this.arm.request<T>({
      operation: `${KINDS[kind].operations}_CreateOrUpdate`,
      method: 'PUT',
      path: this.id(kind, name),
      apiVersion: KINDS[kind].apiVersion,
      json: body,
      signal: options.signal,
      permanent: options.permanent,
    });
    return response!;
  }

  /** Follows what a `begin*` call started to its end; the resource's final state after a PUT or PATCH. */
  async complete<T>(
    kind: ResourceKind,
    name: string,
    method: 'PUT' | 'PATCH' | 'DELETE' | 'POST',
    started: ArmResponse<T>,
    operation: string,
    options: Options = {},
  ): Promise<T | undefined> {
    return completeOperation(this.lro, started, {
      operation,
      method,
      resourcePath: this.id(kind, name),
      apiVersion: KINDS[kind].apiVersion,
      signal: options.signal,
      permanent: options.permanent,
    });
  }

  async createOrUpdate<T>(kind: ResourceKind, name: string, body: unknown, options: Options = {}): Promise<T> {
    const started = await this.beginCreateOrUpdate<T>(kind, name, body, options);
    return (await this.complete(kind, name, 'PUT', started, `${KINDS[kind].operations}_CreateOrUpdate`, options))!;
  }

  /** PATCH; `ifMatch` makes it fail with 412 when the resource changed since it was read. */
  async update<T>(
    kind: ResourceKind,
    name: string,
    body: unknown,
    options: Options & { ifMatch?: string } = {},
  ): Promise<T> {
    const operation = `${KINDS[kind].operations}_Update`;
    const started = await this.arm.request<T>({
      operation,
      method: 'PATCH',
      path: this.id(kind, name),
      apiVersion: KINDS[kind].apiVersion,
      json: body,
      headers: options.ifMatch ? { 'if-match': options.ifMatch } : undefined,
      signal: options.signal,
      permanent: options.permanent,
    });
    return (await this.complete(kind, name, 'PATCH', started!, operation, options))!;
  }

  /** DELETE and wait until it is done. ARM answers 204 for a resource that does not exist: success. */
  async delete(kind: ResourceKind, name: string, options: Options = {}): Promise<void> {
    const operation = `${KINDS[kind].operations}_Delete`;
    const started = await this.arm.request({
      operation,
      method: 'DELETE',
      path: this.id(kind, name),
      apiVersion: KINDS[kind].apiVersion,
      notFoundOk: true,
      signal: options.signal,
      permanent: options.permanent,
    });
    if (!started || started.status === 204) return;
    await this.complete(kind, name, 'DELETE', started, operation, options);
  }

  /** A VM action (`restart`, `start`), waited for. */
  async vmAction(name: string, action: 'restart' | 'start', options: Options = {}): Promise<void> {
    const operation = `VirtualMachines_${action === 'restart' ? 'Restart' : 'Start'}`;
    const started = await this.arm.request({
      operation,
      method: 'POST',
      path: `${this.id('virtualMachine', name)}/${action}`,
      apiVersion: API_VERSIONS.compute,
      signal: options.signal,
    });
    await this.complete('virtualMachine', name, 'POST', started!, operation, options);
  }

  /** Every resource of a kind in the resource group, following `nextLink` pages. */
  async list<T>(kind: ResourceKind, options: Options = {}): Promise<T[]> {
    const all: T[] = [];
    let path: string | undefined = `${this.groupPath()}/providers/${KINDS[kind].path}`;
    while (path) {
      const response: ArmResponse<{ value?: T[]; nextLink?: string }> | undefined = await this.arm.request({
        operation: KINDS[kind].list,
        path,
        apiVersion: KINDS[kind].apiVersion,
        signal: options.signal,
      });
      all.push(...(response?.body?.value ?? []));
      path = response?.body?.nextLink;
    }
    return all;
  }

  /**
   * Merges tags into a resource's tags with the Tags API (`operation: Merge`): one call, and no
   * read-modify-write race with the tags someone else sets at the same time.
   */
  async mergeTags(
    kind: ResourceKind,
    name: string,
    tags: Record<string, string>,
    options: Options = {},
  ): Promise<void> {
    await this.arm.request({
      operation: 'Tags_UpdateAtScope',
      method: 'PATCH',
      path: `${this.id(kind, name)}/providers/Microsoft.Resources/tags/default`,
      apiVersion: API_VERSIONS.resources,
      json: { operation: 'Merge', properties: { tags } },
      signal: options.signal,
    });
  }

  /** The VM sizes of a region (VirtualMachineSizes_List). */
  async vmSizes(location: string, options: Options = {}): Promise<VmSize[]> {
    const response = await this.arm.request<{ value?: VmSize[] }>({
      operation: 'VirtualMachineSizes_List',
      path: `/subscriptions/${this.subscriptionId}/providers/Microsoft.Compute/locations/${encodeURIComponent(location)}/vmSizes`,
      apiVersion: API_VERSIONS.compute,
      signal: options.signal,
    });
    return response?.body?.value ?? [];
  }

  /** The versions of a platform image in a region (VirtualMachineImages_List); empty when it does not exist. */
  async platformImageVersions(
    location: string,
    image: Omit<MarketplaceImage, 'version'>,
    options: Options = {},
  ): Promise<string[]> {
    const path =
      `/subscriptions/${this.subscriptionId}/providers/Microsoft.Compute/locations/${encodeURIComponent(location)}` +
      `/publishers/${encodeURIComponent(image.publisher)}/artifacttypes/vmimage/offers/${encodeURIComponent(image.offer)}/skus/${encodeURIComponent(image.sku)}/versions`;
    const response = await this.arm.request<Array<{ name: string }>>({
      operation: 'VirtualMachineImages_List',
      path,
      apiVersion: API_VERSIONS.compute,
      notFoundOk: true,
      signal: options.signal,
    });
    return (response?.body ?? []).map((v) => v.name);
  }

  private groupPath(): string {
    return `/subscriptions/${this.subscriptionId}/resourceGroups/${encodeURIComponent(this.resourceGroup)}`;
  }
}
