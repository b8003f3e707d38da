import { FakeApiError, alreadyExists, invalid, notFound } from './http.js';
import { failureOf } from './instances.js';
import { listReply } from './lists.js';
import { operationReply } from './operation-routes.js';
import { link, type FakeContext, type Reply, type Route, type RouteCall } from './routes.js';
import { fingerprint, newId, timestamp, type FakeImage } from './state.js';
import { checkLabels, checkName } from './validate.js';

const IMAGE_REFERENCE = /(?:projects\/([^/]+)\/)?global\/images\/(family\/)?([^/?]+)$/;

/** `projects/P/global/images/NAME` of an image. */
export function imageRefOf(image: FakeImage): string {
  return `projects/${image.project}/global/images/${image.name}`;
}

/** The image a reference names (a full URL, a partial one, a family), in the fake's project or its public image project. */
export function findImage(ctx: FakeContext, reference: string): FakeImage | undefined {
  const match = IMAGE_REFERENCE.exec(reference);
  if (!match) return undefined;
  const project = match[1] ?? ctx.state.project;
  if (match[2]) return newestOfFamily(ctx, project, match[3]!);
  return ctx.state.images.get(`${project}/${match[3]}`);
}

function newestOfFamily(ctx: FakeContext, project: string, family: string): FakeImage | undefined {
  return [...ctx.state.images.values()]
    .filter((i) => i.project === project && i.family === family && i.status === 'READY')
    .sort((a, b) => b.creationTimestamp.localeCompare(a.creationTimestamp))[0];
}

/**
 * Global images: insert (from another image, or a raw disk tarball in Cloud Storage, which the fake knows as
 * a list of object URLs), get, getFromFamily, list, delete. The public image project is readable by anyone.
 */
export function imageRoutes(ctx: FakeContext, storageObjects: ReadonlySet<string>): Route[] {
  const imageOr404 = (call: RouteCall): FakeImage => {
    const image = ctx.state.images.get(`${call.project}/${call.params[0]}`);
    if (!image) throw notFound(`projects/${call.project}/global/images/${call.params[0]}`);
    return image;
  };
  return [
    {
      http: 'POST',
      path: /^\/global\/images$/,
      method: 'images.insert',
      mutation: true,
      handle: (call) => insert(ctx, call, storageObjects),
    },
    {
      http: 'GET',
      path: /^\/global\/images$/,
      method: 'images.list',
      publicImages: true,
      handle: (call) => ({
        status: 200,
        body: listReply(
          'compute#imageList',
          `projects/${call.project}/global/images`,
          link(ctx, 'global/images', call.project),
          [...ctx.state.images.values()].filter((i) => i.project === call.project).map((i) => imageView(ctx, i)),
          call.query,
        ),
      }),
    },
    {
      http: 'GET',
      path: /^\/global\/images\/family\/([^/]+)$/,
      method: 'images.getFromFamily',
      publicImages: true,
      handle: (call) => {
        const image = newestOfFamily(ctx, call.project, call.params[0]!);
        if (!image) throw notFound(`projects/${call.project}/global/images/family/${call.params[0]}`);
        return { status: 200, body: imageView(ctx, image) };
      },
    },
    {
      http: 'GET',
      path: /^\/global\/images\/([^/]+)$/,
      method: 'images.get',
      publicImages: true,
      handle: (call) => ({ status: 200, body: imageView(ctx, imageOr404(call)) }),
    },
    {
      http: 'DELETE',
      path: /^\/global\/images\/([^/]+)$/,
      method: 'images.delete',
      mutation: true,
      handle: (call) => remove(ctx, call, imageOr404(call)),
    },
  ];
}

function insert(ctx: FakeContext, call: RouteCall, storageObjects: ReadonlySet<string>): Reply {
  const { state } = ctx;
  const name = checkName(call.body.name);
  const key = `${state.project}/${name}`;
  if (state.images.has(key)) throw alreadyExists(`projects/${state.project}/global/images/${name}`);
  const rawDisk = (call.body.rawDisk as { source?: unknown } | undefined)?.source;
  const sources = [call.body.sourceImage, rawDisk, call.body.sourceDisk, call.body.sourceSnapshot].filter(
    (s) => s !== undefined,
  );
  if (sources.length !== 1) {
    throw new FakeApiError(
      400,
      'invalid',
      "Invalid value for field 'resource': ''. Exactly one of 'rawDisk.source', 'sourceImage', 'sourceDisk' or 'sourceSnapshot' must be specified.",
    );
  }
  let diskSizeGb = 10;
  let sourceImage: string | undefined;
  if (typeof call.body.sourceImage === 'string') {
    const source = findImage(ctx, call.body.sourceImage);
    if (!source)
      throw invalid('resource.sourceImage', call.body.sourceImage, 'The referenced image resource cannot be found.');
    diskSizeGb = source.diskSizeGb;
    sourceImage = imageRefOf(source);
  } else if (typeof rawDisk === 'string') {
    if (!storageObjects.has(rawDisk))
      throw invalid('resource.rawDisk.source', rawDisk, 'The referenced Cloud Storage object cannot be found.');
  } else {
    throw invalid('resource', '', 'The fake creates images from sourceImage or rawDisk.source only.');
  }
  const labels = checkLabels(call.body.labels);
  const image: FakeImage = {
    id: newId(),
    project: state.project,
    name,
    status: 'PENDING',
    diskSizeGb,
    labels,
    labelFingerprint: fingerprint(labels),
    ...(typeof call.body.family === 'string' ? { family: call.body.family } : {}),
    ...(typeof call.body.description === 'string' ? { description: call.body.description } : {}),
    ...(sourceImage ? { sourceImage } : {}),
    ...(typeof rawDisk === 'string' ? { rawDiskSource: rawDisk } : {}),
    creationTimestamp: timestamp(),
  };
  state.images.set(key, image);
  const operation = ctx.operations.start(
    {
      operationType: 'insert',
      targetLink: link(ctx, `global/images/${name}`),
      targetId: image.id,
      user: call.token.email,
      durationMs: ctx.timings.imageMs,
      ...failureOf(ctx, 'images.insert'),
      work: {
        done: () => {
          image.status = 'READY';
        },
        failed: () => {
          if (state.images.get(key) === image) state.images.delete(key);
        },
      },
    },
    call.requestId,
  );
  return operationReply(ctx, operation);
}

function remove(ctx: FakeContext, call: RouteCall, image: FakeImage): Reply {
  const key = `${image.project}/${image.name}`;
  const before = image.status;
  image.status = 'DELETING';
  const operation = ctx.operations.start(
    {
      operationType: 'delete',
      targetLink: link(ctx, `global/images/${image.name}`),
      targetId: image.id,
      user: call.token.email,
      durationMs: ctx.timings.transitionMs,
      ...failureOf(ctx, 'images.delete'),
      work: {
        done: () => {
          if (ctx.state.images.get(key) === image) ctx.state.images.delete(key);
        },
        failed: () => {
          image.status = before;
        },
      },
    },
    call.requestId,
  );
  return operationReply(ctx, operation);
}

export function imageView(ctx: FakeContext, image: FakeImage): Record<string, unknown> {
  return {
    kind: 'compute#image',
    id: image.id,
    creationTimestamp: image.creationTimestamp,
    name: image.name,
    ...(image.description ? { description: image.description } : {}),
    sourceType: 'RAW',
    ...(image.rawDiskSource ? { rawDisk: { source: image.rawDiskSource, containerType: 'TAR' } } : {}),
    status: image.status,
    archiveSizeBytes: String(image.diskSizeGb * 200 * 1024 * 1024),
    diskSizeGb: String(image.diskSizeGb),
    ...(image.sourceImage ? { sourceImage: `${ctx.baseUrl}/compute/v1/${image.sourceImage}` } : {}),
    ...(image.family ? { family: image.family } : {}),
    selfLink: link(ctx, `global/images/${image.name}`, image.project),
    ...(Object.keys(image.labels).length ? { labels: image.labels } : {}),
    labelFingerprint: image.labelFingerprint,
    architecture: 'X86_64',
  };
}
