import { SlipwayError, type CallOptions, type CreateStemcellInput } from '@slipway/contracts';
import { stringProperty, type GcpContext } from './context.js';
import { PLUGIN, throwIfCancelled } from './errors.js';
import { LIGHT_SUFFIX, imageReference, type ImageCatalog } from './images.js';
import { labelsOf } from './labels.js';
import { nameSafe, resourceName } from './names.js';
import { REQUEST_ID_LABEL } from './vms.js';

/** Where the bytes of a new image come from, in `images.insert` terms. */
type ImageSource = { sourceImage: string } | { rawDisk: { source: string } };

/** The stemcell verbs on global images. */
export class StemcellOperations {
  constructor(
    private readonly ctx: GcpContext,
    private readonly images: ImageCatalog,
  ) {}

  /**
   * A light stemcell (`cloud_properties.image`) registers an image that already exists (any project,
   * a family too): the driver checks it is READY and never deletes it. Otherwise `images.insert` creates a
   * project image from, in order: `cloud_properties.source_image`, an `imagePath` in Cloud Storage
   * (`gs://BUCKET/OBJECT.tar.gz`: GCE imports raw disks only from there), or the configured
   * `stemcell_source_image`. Idempotent like createVm: requestId plus a name derived from the request id.
   */
  async create(input: CreateStemcellInput, options: CallOptions = {}): Promise<{ stemcellId: string }> {
    const { signal, requestId } = options;
    throwIfCancelled(signal);
    const properties = input.cloudProperties;
    const light = stringProperty(properties, 'image');
    if (light) {
      const reference = imageReference(light, this.ctx.project);
      const image = await this.images.get(reference, signal);
      if (image?.status !== 'READY') {
        throw new SlipwayError(
          'CloudError',
          `image ${reference} ${image ? `is ${image.status}, not READY` : 'does not exist'}`,
          { plugin: PLUGIN, field: 'cloud_properties.image' },
        );
      }
      return { stemcellId: reference + LIGHT_SUFFIX };
    }
    const source = this.sourceOf(input);
    const name = `${resourceName(`slipway-${nameSafe(`${input.name}-${input.version}`, 30) || 'stemcell'}`, requestId)}`;
    const body = {
      name,
      ...source,
      description: `Slipway stemcell ${input.name}/${input.version}`,
      labels: labelsOf({
        'slipway.stemcell_name': input.name,
        'slipway.stemcell_version': input.version,
        [REQUEST_ID_LABEL]: requestId,
      }),
    };
    try {
      await this.ctx.operations.run({
        method: 'images.insert',
        permanent: 'CloudError',
        signal,
        ...(requestId ? { idempotencyKey: `createStemcell:${requestId}` } : {}),
        send: (gceRequestId) =>
          this.ctx.client.startOperation('images.insert', '/global/images', {
            requestId: gceRequestId,
            json: body,
            signal,
          }),
      });
    } catch (error) {
      if (!(requestId !== undefined && SlipwayError.is(error, 'AlreadyExists'))) throw error;
    }
    return { stemcellId: name };
  }

  /** `images.delete`, a global operation; a light stemcell's image belongs to the operator and stays. */
  async delete(stemcellId: string, options: CallOptions = {}): Promise<void> {
    if (stemcellId.endsWith(LIGHT_SUFFIX)) return;
    try {
      await this.ctx.operations.run({
        method: 'images.delete',
        permanent: 'CloudError',
        signal: options.signal,
        send: (gceRequestId) =>
          this.ctx.client.startOperation('images.delete', `/global/images/${encodeURIComponent(stemcellId)}`, {
            requestId: gceRequestId,
            http: 'DELETE',
            signal: options.signal,
          }),
      });
    } catch (error) {
      if (!SlipwayError.is(error, 'NotFound')) throw error;
    }
  }

  private sourceOf(input: CreateStemcellInput): ImageSource {
    const explicit = stringProperty(input.cloudProperties, 'source_image');
    if (explicit) return { sourceImage: imageReference(explicit, this.ctx.project) };
    const path = input.imagePath;
    if (path && /^(gs:\/\/|https:\/\/storage\.googleapis\.com\/)/.test(path)) {
      return {
        rawDisk: {
          source: path.startsWith('gs://') ? `https://storage.googleapis.com/${path.slice('gs://'.length)}` : path,
        },
      };
    }
    if (path) {
      throw new SlipwayError(
        'InvalidInput',
        `stemcell ${input.name}/${input.version}: Compute Engine imports images only from Cloud Storage, not from ${path}`,
        {
          plugin: PLUGIN,
          field: 'imagePath',
          hint: 'Upload the stemcell tarball (disk.raw in a .tar.gz) with `gcloud storage cp`, and give its gs:// URL, or use a light stemcell (cloud_properties.image).',
        },
      );
    }
    const configured = this.ctx.config.stemcell_source_image;
    if (configured) return { sourceImage: imageReference(configured, this.ctx.project) };
    throw new SlipwayError(
      'InvalidInput',
      `stemcell ${input.name}/${input.version} names no image: give cloud_properties.image (light), cloud_properties.source_image, a gs:// imagePath, or set stemcell_source_image in the driver config`,
      {
        plugin: PLUGIN,
        field: 'imagePath',
      },
    );
  }
}
