import { ArmHttpError, objectAt, stringTags } from './http.js';
import { busy, checkLocation, checkName, propertiesOf, resourceNotFound } from './resource-rules.js';
import {
  SEGMENT,
  groupPath,
  subscriptionPath,
  type FakeContext,
  type Reply,
  type Route,
  type RouteCall,
} from './routes.js';
import type { FakeImage } from './state.js';

const IMAGE = 'Microsoft.Compute/images';

/** Managed images (from a VHD page blob) and the region's platform image catalogue. */
export function imageRoutes(ctx: FakeContext): Route[] {
  const image = groupPath(`Microsoft\\.Compute/images/${SEGMENT}`);
  const base = { schedule: 'compute' as const, resourceType: IMAGE };
  return [
    { ...base, method: 'PUT', path: image, operation: 'Images_CreateOrUpdate', handle: (call) => putImage(ctx, call) },
    {
      ...base,
      method: 'GET',
      path: image,
      operation: 'Images_Get',
      handle: (call) => ({ status: 200, body: imageView(ctx, imageOr404(ctx, call.params[2]!)) }),
    },
    { ...base, method: 'DELETE', path: image, operation: 'Images_Delete', handle: (call) => deleteImage(ctx, call) },
    {
      schedule: 'compute',
      resourceType: 'Microsoft.Compute/locations/publishers/artifacttypes/offers/skus/versions',
      method: 'GET',
      path: subscriptionPath(
        `Microsoft\\.Compute/locations/${SEGMENT}/publishers/${SEGMENT}/artifacttypes/vmimage/offers/${SEGMENT}/skus/${SEGMENT}/versions`,
      ),
      operation: 'VirtualMachineImages_List',
      handle: (call) => {
        const [, location, publisher, offer, sku] = call.params.map((p) => p.toLowerCase());
        const found =
          location === ctx.state.location
            ? ctx.state.platformImages.find(
                (p) =>
                  p.publisher.toLowerCase() === publisher &&
                  p.offer.toLowerCase() === offer &&
                  p.sku.toLowerCase() === sku,
              )
            : undefined;
        if (!found) throw new ArmHttpError(404, 'NotFound', 'Artifact: VMImage was not found.');
        return {
          status: 200,
          body: found.versions.map((version) => ({
            location: ctx.state.location,
            name: version,
            id: `/Subscriptions/${ctx.state.subscriptionId}/Providers/Microsoft.Compute/Locations/${ctx.state.location}/Publishers/${found.publisher}/ArtifactTypes/VMImage/Offers/${found.offer}/Skus/${found.sku}/Versions/${version}`,
          })),
        };
      },
    },
  ];
}

function imageOr404(ctx: FakeContext, name: string): FakeImage {
  const image = ctx.state.images.get(name.toLowerCase());
  if (!image) throw resourceNotFound(ctx, IMAGE, name);
  return image;
}

function putImage(ctx: FakeContext, call: RouteCall): Reply {
  const { state } = ctx;
  const name = call.params[2]!;
  checkName(name, IMAGE, 80);
  const location = checkLocation(ctx, call.body, IMAGE);
  const existing = state.images.get(name.toLowerCase());
  if (existing) {
    if (existing.provisioningState !== 'Succeeded' && existing.provisioningState !== 'Failed') throw busy();
    existing.tags = stringTags(call.body.tags);
    return { status: 200, body: imageView(ctx, existing) };
  }
  const properties = propertiesOf(call.body);
  const osDisk = objectAt(objectAt(properties.storageProfile).osDisk);
  if (osDisk.osType !== 'Linux' && osDisk.osType !== 'Windows') {
    throw new ArmHttpError(
      400,
      'InvalidParameter',
      "Required parameter 'osDisk.osType' is missing (null).",
      {},
      'osDisk.osType',
    );
  }
  if (osDisk.osState !== 'Generalized' && osDisk.osState !== 'Specialized') {
    throw new ArmHttpError(
      400,
      'InvalidParameter',
      "Required parameter 'osDisk.osState' is missing (null).",
      {},
      'osDisk.osState',
    );
  }
  const blobUri = osDisk.blobUri;
  if (typeof blobUri !== 'string' || !/^https:\/\/[a-z0-9]+\.blob\.core\.windows\.net\//.test(blobUri)) {
    throw new ArmHttpError(
      400,
      'InvalidParameter',
      `The value '${String(blobUri)}' of parameter 'osDisk.blobUri' is not a valid blob URI.`,
      {},
      'osDisk.blobUri',
    );
  }
  if (!state.blobs.has(blobUri)) {
    throw new ArmHttpError(
      400,
      'InvalidParameter',
      `The source blob ${blobUri} is not accessible. Check that the blob exists and is a page blob.`,
      {},
      'osDisk.blobUri',
    );
  }
  const generation = properties.hyperVGeneration === 'V2' ? 'V2' : 'V1';
  const image: FakeImage = {
    name,
    location,
    tags: stringTags(call.body.tags),
    osType: String(osDisk.osType),
    osState: String(osDisk.osState),
    blobUri,
    ...(typeof osDisk.storageAccountType === 'string' ? { storageAccountType: osDisk.storageAccountType } : {}),
    hyperVGeneration: generation,
    provisioningState: 'Creating',
  };
  state.images.set(name.toLowerCase(), image);
  const operation = ctx.operations.start({
    operation: 'Images_CreateOrUpdate',
    schedule: 'compute',
    apiVersion: call.apiVersion,
    method: 'PUT',
    delayMs: ctx.timings.transitionMs,
    succeed: () => {
      if (image.provisioningState === 'Creating') image.provisioningState = 'Succeeded';
    },
    fail: () => {
      image.provisioningState = 'Failed';
    },
    result: () => imageView(ctx, image),
  });
  return ctx.operations.accepted(operation, 201, imageView(ctx, image));
}

function deleteImage(ctx: FakeContext, call: RouteCall): Reply {
  const { state } = ctx;
  const image = state.images.get(call.params[2]!.toLowerCase());
  if (!image) return { status: 204 };
  image.provisioningState = 'Deleting';
  const operation = ctx.operations.start({
    operation: 'Images_Delete',
    schedule: 'compute',
    apiVersion: call.apiVersion,
    method: 'DELETE',
    delayMs: ctx.timings.transitionMs,
    succeed: () => {
      if (state.images.get(image.name.toLowerCase()) === image) state.images.delete(image.name.toLowerCase());
    },
  });
  return ctx.operations.accepted(operation, 202);
}

function imageView(ctx: FakeContext, image: FakeImage): unknown {
  return {
    id: ctx.state.imageId(image.name),
    name: image.name,
    type: IMAGE,
    location: image.location,
    tags: image.tags,
    properties: {
      storageProfile: {
        osDisk: {
          osType: image.osType,
          osState: image.osState,
          blobUri: image.blobUri,
          caching: 'ReadWrite',
          ...(image.storageAccountType ? { storageAccountType: image.storageAccountType } : {}),
        },
        dataDisks: [],
        zoneResilient: false,
      },
      hyperVGeneration: image.hyperVGeneration,
      provisioningState: image.provisioningState,
    },
  };
}
