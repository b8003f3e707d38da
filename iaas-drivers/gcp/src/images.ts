import { SlipwayError } from '@slipway/contracts';
import type { ComputeClient } from './client.js';
import { PLUGIN } from './errors.js';
import { relativeResource } from './names.js';
import type { Image } from './resources.js';

/** A light stemcell's id carries the suffix ` light` (BOSH's convention): the image belongs to the operator. */
export const LIGHT_SUFFIX = ' light';

/**
 * `projects/P/global/images/NAME` (or `.../images/family/FAMILY`) from whatever an operator writes: a full
 * URL, a `projects/...` path, `global/images/NAME`, or a bare image name of the driver's project.
 */
export function imageReference(text: string, project: string): string {
  const relative = relativeResource(text.trim());
  if (relative.startsWith('projects/')) return relative.replace(/\/+$/, '');
  if (relative.startsWith('global/images/')) return `projects/${project}/${relative}`;
  if (/^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/.test(relative)) return `projects/${project}/global/images/${relative}`;
  throw new SlipwayError(
    'InvalidInput',
    `"${text}" is not a Compute Engine image reference (projects/P/global/images/NAME or .../images/family/FAMILY)`,
    { plugin: PLUGIN, field: 'cloud_properties.image' },
  );
}

/** The image a stemcell id stands for. */
export function imageOfStemcell(stemcellId: string, project: string): string {
  return stemcellId.endsWith(LIGHT_SUFFIX)
    ? stemcellId.slice(0, -LIGHT_SUFFIX.length)
    : `projects/${project}/global/images/${stemcellId}`;
}

/**
 * Reads images (`images.get`, or `images.getFromFamily` for a family reference) and remembers each one's
 * size, which a VM's boot disk must at least have. A stemcell's image never changes size; a family's
 * newest image might, so family lookups are not remembered.
 */
export class ImageCatalog {
  private readonly sizes = new Map<string, number>();

  constructor(private readonly client: ComputeClient) {}

  async get(reference: string, signal?: AbortSignal): Promise<Image | undefined> {
    const family = reference.includes('/images/family/');
    return this.client.request<Image>({
      method: family ? 'images.getFromFamily' : 'images.get',
      path: `/${reference}`,
      signal,
      notFoundOk: true,
    });
  }

  async sizeGb(reference: string, signal?: AbortSignal): Promise<number> {
    const known = this.sizes.get(reference);
    if (known !== undefined) return known;
    const image = await this.get(reference, signal);
    if (!image)
      throw new SlipwayError('VmCreationFailed', `the stemcell's image ${reference} does not exist`, {
        plugin: PLUGIN,
        field: 'stemcellId',
      });
    const size = Number(image.diskSizeGb ?? 10);
    if (!reference.includes('/images/family/')) this.sizes.set(reference, size);
    return size;
  }
}
