import { createHash } from 'node:crypto';
import { FakeHttpError } from './http.js';
import type { FakeContext, Reply, RouteCall, ServiceMount } from './routes.js';
import { newId, now, type FakeImage } from './state.js';

const DISK_FORMATS = ['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop'];
const CONTAINER_FORMATS = ['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'];
const VISIBILITIES = ['public', 'private', 'shared', 'community'];
/** Core image fields: everything else in a create body is a custom property. */
const CORE = new Set([
  'id',
  'name',
  'status',
  'visibility',
  'protected',
  'os_hidden',
  'checksum',
  'os_hash_algo',
  'os_hash_value',
  'owner',
  'size',
  'virtual_size',
  'min_ram',
  'min_disk',
  'disk_format',
  'container_format',
  'created_at',
  'updated_at',
  'tags',
  'self',
  'file',
  'schema',
  'locations',
  'direct_url',
]);
const LIST_PARAMS = new Set(['limit', 'marker', 'sort', 'sort_key', 'sort_dir', 'member_status']);

/** Glance v2 under /image: create an image record, upload its data, show, list (with property filters), delete. */
export function glanceMount(ctx: FakeContext): ServiceMount {
  const imageOr404 = (id: string): FakeImage => {
    const image = ctx.state.images.get(id);
    if (!image) throw new FakeHttpError(404, `No image found with ID ${id}`);
    return image;
  };
  return {
    service: 'image',
    prefix: /^\/image/,
    routes: [
      { method: 'POST', path: /^\/v2\/images$/, operation: 'createImage', handle: (call) => createImage(ctx, call) },
      { method: 'GET', path: /^\/v2\/images$/, operation: 'listImages', handle: (call) => listImages(ctx, call) },
      {
        method: 'GET',
        path: /^\/v2\/images\/([^/]+)$/,
        operation: 'showImage',
        handle: (call) => ({ status: 200, body: imageView(imageOr404(call.params[0]!)) }),
      },
      {
        method: 'DELETE',
        path: /^\/v2\/images\/([^/]+)$/,
        operation: 'deleteImage',
        handle: (call) => {
          ctx.state.images.delete(imageOr404(call.params[0]!).id);
          return { status: 204 };
        },
      },
      {
        method: 'PUT',
        path: /^\/v2\/images\/([^/]+)\/file$/,
        operation: 'uploadBinaryImageData',
        rawBody: true,
        handle: (call) => upload(imageOr404(call.params[0]!), call),
      },
    ],
  };
}

function createImage(ctx: FakeContext, call: RouteCall): Reply {
  const body = call.body;
  const diskFormat = body.disk_format ?? null;
  if (diskFormat !== null && !DISK_FORMATS.includes(String(diskFormat))) {
    throw new FakeHttpError(
      400,
      `Invalid value '${String(diskFormat)}' for parameter 'disk_format': Image disk format must be one of ${DISK_FORMATS.join(', ')}`,
    );
  }
  const containerFormat = body.container_format ?? null;
  if (containerFormat !== null && !CONTAINER_FORMATS.includes(String(containerFormat))) {
    throw new FakeHttpError(
      400,
      `Invalid value '${String(containerFormat)}' for parameter 'container_format': Image container format must be one of ${CONTAINER_FORMATS.join(', ')}`,
    );
  }
  const visibility = String(body.visibility ?? 'shared');
  if (!VISIBILITIES.includes(visibility)) throw new FakeHttpError(400, `Invalid visibility value: ${visibility}`);
  const properties: Record<string, string> = {};
  for (const [key, value] of Object.entries(body)) {
    if (CORE.has(key)) continue;
    if (typeof value !== 'string')
      throw new FakeHttpError(
        400,
        `Provided object does not match schema 'image': ${JSON.stringify(value)} is not of type 'string' Failed validating 'type' in schema['additionalProperties']`,
      );
    properties[key] = value;
  }
  const id = typeof body.id === 'string' ? body.id : newId();
  if (ctx.state.images.has(id)) throw new FakeHttpError(409, `An image with identifier ${id} already exists`);
  const created = now();
  const image: FakeImage = {
    id,
    name: typeof body.name === 'string' ? body.name : null,
    status: 'queued',
    diskFormat: diskFormat as string | null,
    containerFormat: containerFormat as string | null,
    visibility,
    properties,
    size: null,
    checksum: null,
    hash: null,
    owner: ctx.state.project.id,
    created,
    updated: created,
  };
  ctx.state.images.set(id, image);
  return { status: 201, headers: { location: `${ctx.baseUrl}/image/v2/images/${id}` }, body: imageView(image) };
}

/** Any query parameter that is not a paging one filters: core fields and custom properties alike. */
function listImages(ctx: FakeContext, call: RouteCall): Reply {
  let images = [...ctx.state.images.values()];
  for (const [key, value] of call.query) {
    if (LIST_PARAMS.has(key)) continue;
    images = images.filter((image) => String((imageView(image) as Record<string, unknown>)[key] ?? '') === value);
  }
  const marker = call.query.get('marker');
  if (marker !== null) {
    const index = images.findIndex((i) => i.id === marker);
    if (index < 0) throw new FakeHttpError(400, `marker ${marker} not found`);
    images = images.slice(index + 1);
  }
  const limit = Math.min(Number(call.query.get('limit') ?? 25), 1000);
  const shown = images.slice(0, limit);
  const next = images.length > limit ? { next: `/v2/images?marker=${shown[shown.length - 1]!.id}` } : {};
  return {
    status: 200,
    body: { images: shown.map(imageView), schema: '/v2/schemas/images', first: '/v2/images', ...next },
  };
}

/** Streams the data in, hashing it as Glance does; the image is active when the request ends. */
async function upload(image: FakeImage, call: RouteCall): Promise<Reply> {
  const type = call.req.headers['content-type'] ?? '';
  if (!type.startsWith('application/octet-stream'))
    throw new FakeHttpError(415, `Content type '${type}' is not supported`);
  if (image.status !== 'queued')
    throw new FakeHttpError(409, `Image status transition from ${image.status} to saving is not allowed`);
  image.status = 'saving';
  const md5 = createHash('md5');
  const sha = createHash('sha512');
  let size = 0;
  try {
    for await (const chunk of call.req) {
      md5.update(chunk as Buffer);
      sha.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
  } catch (error) {
    image.status = 'queued';
    throw error;
  }
  Object.assign(image, {
    status: 'active',
    size,
    checksum: md5.digest('hex'),
    hash: sha.digest('hex'),
    updated: now(),
  });
  return { status: 204 };
}

function imageView(image: FakeImage): Record<string, unknown> {
  return {
    ...image.properties,
    id: image.id,
    name: image.name,
    status: image.status,
    visibility: image.visibility,
    protected: false,
    os_hidden: false,
    checksum: image.checksum,
    os_hash_algo: image.hash ? 'sha512' : null,
    os_hash_value: image.hash,
    owner: image.owner,
    size: image.size,
    virtual_size: null,
    min_ram: 0,
    min_disk: 0,
    disk_format: image.diskFormat,
    container_format: image.containerFormat,
    created_at: image.created,
    updated_at: image.updated,
    tags: [],
    self: `/v2/images/${image.id}`,
    file: `/v2/images/${image.id}/file`,
    schema: '/v2/schemas/image',
  };
}
