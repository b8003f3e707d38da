import { SlipwayError, throwIfAborted, type CallOptions, type CreateStemcellInput } from '@slipway/contracts';
import type { ArmResources } from './arm-resources.js';
import type { MarketplaceImage } from './config.js';
import { stringProperty, type AzureContext } from './context.js';
import { PLUGIN } from './errors.js';
import { REQUEST_ID_TAG, resourceName, tagsOf } from './naming.js';
import type { Image, ImageReference } from './resources.js';

/**
 * A stemcell id says which of three kinds it is:
 * - `slipway-stemcell-…`: a managed image (Microsoft.Compute/images) the driver created from a VHD blob;
 * - `/subscriptions/…/images/x light`: an image the operator owns, registered by id (BOSH's light stemcell);
 * - `Publisher:Offer:Sku:Version`: a platform image, in the URN form `az vm image list` prints.
 */
export type StemcellKind = 'managed' | 'light' | 'platform';

const LIGHT_SUFFIX = ' light';

export function stemcellKindOf(stemcellId: string): StemcellKind {
  if (stemcellId.endsWith(LIGHT_SUFFIX)) return 'light';
  if (stemcellId.split(':').length === 4) return 'platform';
  return 'managed';
}

/** The VM's `storageProfile.imageReference` for a stemcell. */
export function imageReferenceOf(stemcellId: string, api: ArmResources): ImageReference {
  const kind = stemcellKindOf(stemcellId);
  switch (kind) {
    case 'light':
      return { id: stemcellId.slice(0, -LIGHT_SUFFIX.length) };
    case 'platform': {
      const [publisher, offer, sku, version] = stemcellId.split(':') as [string, string, string, string];
      return { publisher, offer, sku, version };
    }
    case 'managed':
      return { id: api.id('image', stemcellId) };
  }
}

/** The stemcell verbs on Microsoft.Compute/images and the platform image catalogue. */
export class StemcellOperations {
  constructor(private readonly ctx: AzureContext) {}

  /**
   * In order: `cloud_properties.image_id` (light: an existing image or gallery image version, checked when it
   * is a managed image), `cloud_properties.image` (a platform image), a VHD blob URL (`cloud_properties.source_uri`
   * or an https `imagePath`) made into a managed image, and last the configured `marketplace_image`.
   * Uploading a local VHD file to blob storage is not this driver's job: `az storage blob upload` it first.
   */
  async create(input: CreateStemcellInput, options: CallOptions = {}): Promise<{ stemcellId: string }> {
    const { signal, requestId } = options;
    throwIfAborted(signal);
    const properties = input.cloudProperties;
    const imageId = stringProperty(properties, 'image_id');
    if (imageId) return { stemcellId: await this.registerLight(imageId, signal) };
    const platform = platformImageOf(properties?.image);
    if (platform) return { stemcellId: await this.registerPlatform(platform, signal) };
    const source =
      stringProperty(properties, 'source_uri') ??
      (input.imagePath && /^https:\/\//.test(input.imagePath) ? input.imagePath : undefined);
    if (source) return { stemcellId: await this.createManaged(input, source, requestId, signal) };
    if (input.imagePath) {
      throw new SlipwayError(
        'InvalidInput',
        `stemcell ${input.name}/${input.version}: ${input.imagePath} is a local file; upload the VHD to a storage account and give its blob URL as cloud_properties.source_uri`,
        { plugin: PLUGIN, field: 'imagePath' },
      );
    }
    if (this.ctx.config.marketplace_image)
      return { stemcellId: await this.registerPlatform(this.ctx.config.marketplace_image, signal) };
    throw new SlipwayError(
      'InvalidInput',
      `stemcell ${input.name}/${input.version} names no image: give cloud_properties.image_id, cloud_properties.image, cloud_properties.source_uri, or set marketplace_image in the driver config`,
      { plugin: PLUGIN, field: 'cloudProperties' },
    );
  }

  /** Only managed images are the driver's own; the others belong to the operator or to Azure and stay. */
  async delete(stemcellId: string, options: CallOptions = {}): Promise<void> {
    if (stemcellKindOf(stemcellId) !== 'managed') return;
    await this.ctx.api.delete('image', stemcellId, { signal: options.signal });
  }

  private async registerLight(imageId: string, signal?: AbortSignal): Promise<string> {
    if (/\/providers\/Microsoft\.Compute\/images\/[^/]+$/i.test(imageId)) {
      const image = await this.ctx.api.getById<Image>('image', imageId, { signal });
      if (image?.properties.provisioningState !== 'Succeeded') {
        throw new SlipwayError(
          'CloudError',
          `image ${imageId} ${image ? `is ${image.properties.provisioningState}, not Succeeded` : 'does not exist'}`,
          { plugin: PLUGIN, field: 'cloud_properties.image_id' },
        );
      }
    }
    return imageId + LIGHT_SUFFIX;
  }

  /** Checks the platform image exists in the region (a typo would otherwise surface only at createVm). */
  private async registerPlatform(image: MarketplaceImage, signal?: AbortSignal): Promise<string> {
    const versions = await this.ctx.api.platformImageVersions(this.ctx.config.location, image, { signal });
    const urn = `${image.publisher}:${image.offer}:${image.sku}:${image.version}`;
    if (versions.length === 0 || (image.version !== 'latest' && !versions.includes(image.version))) {
      throw new SlipwayError(
        'CloudError',
        `platform image ${urn} is not offered in ${this.ctx.config.location}${versions.length ? ` (versions: ${versions.slice(-5).join(', ')})` : ''}`,
        { plugin: PLUGIN, field: 'cloud_properties.image' },
      );
    }
    return urn;
  }

  private async createManaged(
    input: CreateStemcellInput,
    blobUri: string,
    requestId: string | undefined,
    signal?: AbortSignal,
  ): Promise<string> {
    const name = resourceName('slipway-stemcell', requestId ?? `${input.name}/${input.version}`);
    const existing = await this.ctx.api.get<Image>('image', name, { signal });
    if (existing?.properties.provisioningState === 'Succeeded') return name;
    const generation = stringProperty(input.cloudProperties, 'hyper_v_generation') === 'V1' ? 'V1' : 'V2';
    await this.ctx.api.createOrUpdate<Image>(
      'image',
      name,
      {
        location: this.ctx.config.location,
        tags: tagsOf({
          'slipway.stemcell_name': input.name,
          'slipway.stemcell_version': input.version,
          [REQUEST_ID_TAG]: requestId,
        }),
        properties: {
          hyperVGeneration: generation,
          storageProfile: {
            osDisk: {
              osType: 'Linux',
              osState: 'Generalized',
              blobUri,
              caching: 'ReadWrite',
              storageAccountType: this.ctx.config.storage_account_type ?? 'StandardSSD_LRS',
            },
          },
        },
      },
      { signal },
    );
    return name;
  }
}

function platformImageOf(value: unknown): MarketplaceImage | undefined {
  const image = value as Partial<MarketplaceImage> | undefined;
  if (!image || typeof image !== 'object') return undefined;
  const { publisher, offer, sku } = image;
  if (typeof publisher !== 'string' || typeof offer !== 'string' || typeof sku !== 'string') return undefined;
  return { publisher, offer, sku, version: typeof image.version === 'string' ? image.version : 'latest' };
}
