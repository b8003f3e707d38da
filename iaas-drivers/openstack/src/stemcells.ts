import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { SlipwayError, throwIfAborted, type CallOptions, type CreateStemcellInput } from '@slipway/contracts';
import type { RequestBody } from './client.js';
import { stringProperty, type OpenStackContext } from './context.js';
import { PLUGIN } from './errors.js';
import type { Image } from './image.js';
import { REQUEST_ID_KEY } from './naming.js';
import { pollUntil } from './poll.js';
import { LIGHT_SUFFIX, imageIdOf } from './vms.js';

/** The stemcell verbs on Glance v2. */
export class StemcellOperations {
  constructor(private readonly ctx: OpenStackContext) {}

  /**
   * A "light" stemcell (`cloud_properties.image_id`) registers an image the operator already uploaded: the
   * driver checks it is active and never deletes it. Otherwise the image at `imagePath` (a file or an http(s)
   * URL) is streamed to Glance. Idempotent through the image property `slipway.request_id`, which Glance
   * filters on; an image left `queued` by a crash before the upload is uploaded now.
   */
  async create(input: CreateStemcellInput, options: CallOptions = {}): Promise<{ stemcellId: string }> {
    const { signal, requestId } = options;
    throwIfAborted(signal);
    const lightId = stringProperty(input.cloudProperties, 'image_id');
    if (lightId) {
      const image = await this.ctx.images.showImage(lightId, { signal });
      if (image?.status !== 'active') {
        throw new SlipwayError(
          'CloudError',
          `Glance image ${lightId} ${image ? `is ${image.status}, not active` : 'does not exist'}`,
          { plugin: PLUGIN, field: 'cloud_properties.image_id' },
        );
      }
      return { stemcellId: lightId + LIGHT_SUFFIX };
    }
    if (!input.imagePath) {
      throw new SlipwayError(
        'InvalidInput',
        `stemcell ${input.name}/${input.version} has neither an image file nor cloud_properties.image_id`,
        { plugin: PLUGIN, field: 'imagePath' },
      );
    }
    const source = input.imagePath;
    let image: Image | undefined;
    if (requestId) {
      image = (await this.ctx.images.listImages({ [REQUEST_ID_KEY]: requestId }, { signal })).find(
        (i) => i.status !== 'killed' && i.status !== 'deleted' && i.status !== 'pending_delete',
      );
    }
    image ??= await this.ctx.images.createImage(
      {
        name: `${input.name}/${input.version}`,
        disk_format: stringProperty(input.cloudProperties, 'disk_format') ?? 'qcow2',
        container_format: stringProperty(input.cloudProperties, 'container_format') ?? 'bare',
        visibility: 'private',
        'slipway.stemcell_name': input.name,
        'slipway.stemcell_version': input.version,
        ...(requestId ? { [REQUEST_ID_KEY]: requestId } : {}),
      },
      { signal },
    );
    if (image.status === 'queued') {
      const data = await openImage(source, signal);
      await this.ctx.images.uploadImageData(image.id, data, { signal });
    }
    const id = image.id;
    await pollUntil(
      async () => {
        const current = await this.ctx.images.showImage(id, { signal });
        if (!current || current.status === 'killed') {
          throw new SlipwayError(
            'CloudError',
            `Glance image ${id} ${current ? 'was killed during the upload' : 'disappeared during the upload'}`,
            { plugin: PLUGIN },
          );
        }
        return current.status === 'active' ? true : undefined;
      },
      { clock: this.ctx.clock, intervalMs: this.ctx.pollIntervalMs, signal },
    );
    return { stemcellId: id };
  }

  /** A light stemcell's image belongs to the operator and stays. */
  async delete(stemcellId: string, options: CallOptions = {}): Promise<void> {
    if (stemcellId.endsWith(LIGHT_SUFFIX)) return;
    await this.ctx.images.deleteImage(imageIdOf(stemcellId), { signal: options.signal });
  }
}

/** A body factory for the upload, so a re-sent request (after re-authentication) streams the image again. */
async function openImage(source: string, signal?: AbortSignal): Promise<() => RequestBody> {
  if (/^https?:\/\//.test(source)) {
    return () => {
      const stream = new TransformStream<Uint8Array, Uint8Array>();
      void fetch(source, { signal })
        .then((response) => {
          if (!response.ok || !response.body) throw new Error(`GET ${source}: ${response.status}`);
          return response.body.pipeTo(stream.writable);
        })
        .catch((error: unknown) => stream.writable.abort(error).catch(() => undefined));
      return stream.readable as unknown as RequestBody;
    };
  }
  const path = source.startsWith('file://') ? new URL(source).pathname : source;
  try {
    await stat(path);
  } catch (error) {
    throw new SlipwayError('InvalidInput', `stemcell image ${path} cannot be read: ${(error as Error).message}`, {
      plugin: PLUGIN,
      field: 'imagePath',
      cause: error,
    });
  }
  return () => Readable.toWeb(createReadStream(path)) as unknown as RequestBody;
}
