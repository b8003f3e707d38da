import { visible, type ActionHandler, type FakeContext } from './context.js';
import { Ec2Error, checkId, missingParameter } from './errors.js';
import { matches, page, parseFilters, tagsFromSpecifications, type FilterSpec } from './filters.js';
import type { QueryArgs } from './query.js';
import { ec2Id, isoNow, type FakeSnapshot } from './state.js';
import { lookUpVolumes } from './volumes.js';
import { tagSet, type XmlObject } from './xml.js';

/** The account Amazon's public snapshots and AMIs belong to. */
export const AMAZON_OWNER_ID = '137112412989';

const SNAPSHOT_FILTERS: FilterSpec<FakeSnapshot> = {
  'snapshot-id': (s) => [s.id],
  'volume-id': (s) => [s.volumeId],
  status: (s) => [s.state],
  'owner-id': (s) => [s.ownerId],
  description: (s) => [s.description],
  'volume-size': (s) => [String(s.volumeSize)],
};

export const createSnapshot: ActionHandler = (args, ctx) => {
  const volumeId = args.required('VolumeId');
  const [volume] = lookUpVolumes(ctx, [volumeId]);
  if (volume!.state !== 'available' && volume!.state !== 'in-use')
    throw new Ec2Error('IncorrectState', `Volume '${volumeId}' is in the '${volume!.state}' state.`);
  const description = args.str('Description') ?? '';
  if (description.length > 255)
    throw new Ec2Error('InvalidParameterValue', 'The snapshot description is longer than 255 characters.');
  const snapshot: FakeSnapshot = {
    id: ec2Id('snap'),
    volumeId,
    volumeSize: volume!.size,
    state: 'pending',
    progress: 0,
    startTime: isoNow(),
    description,
    ownerId: ctx.state.accountId,
    encrypted: volume!.encrypted,
    tags: tagsFromSpecifications(args, 'snapshot', ['snapshot']),
    createdAt: Date.now(),
  };
  ctx.state.snapshots.set(snapshot.id, snapshot);
  ctx.scheduler.later(ctx.timings.snapshotMs, () => {
    if (snapshot.state === 'pending') Object.assign(snapshot, { state: 'completed', progress: 100 });
  });
  return snapshotXml(snapshot);
};

export const describeSnapshots: ActionHandler = (args, ctx) => {
  const ids = args.strings('SnapshotId');
  const owners = ownerIds(ctx, args);
  const filters = parseFilters(args.list('Filter'), SNAPSHOT_FILTERS);
  const wanted = (s: FakeSnapshot) =>
    (owners ? owners.includes(s.ownerId) : true) && matches(s, filters, SNAPSHOT_FILTERS);
  const snapshots =
    ids.length > 0
      ? lookUpSnapshots(ctx, ids).filter(wanted)
      : [...ctx.state.snapshots.values()].filter((s) => wanted(s) && visible(ctx, s));
  const paged = page(snapshots, args, { min: 5, max: 1000 });
  return { snapshotSet: paged.items.map(snapshotXml), ...(paged.nextToken ? { nextToken: paged.nextToken } : {}) };
};

export const deleteSnapshot: ActionHandler = (args, ctx) => {
  const snapshotId = args.str('SnapshotId');
  if (!snapshotId) throw missingParameter('SnapshotId');
  const [snapshot] = lookUpSnapshots(ctx, [snapshotId]);
  if (snapshot!.ownerId !== ctx.state.accountId)
    throw new Ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.', 403);
  const user = [...ctx.state.images.values()].find((i) => i.snapshotId === snapshotId);
  if (user) throw new Ec2Error('InvalidSnapshot.InUse', `The snapshot ${snapshotId} is currently in use by ${user.id}`);
  ctx.state.snapshots.delete(snapshotId);
  return { return: true };
};

export function lookUpSnapshots(ctx: FakeContext, ids: string[]): FakeSnapshot[] {
  for (const id of ids) checkId(id, 'snap', 'InvalidSnapshot.Malformed');
  const missing = ids.filter((id) => {
    const snapshot = ctx.state.snapshots.get(id);
    return !snapshot || !visible(ctx, snapshot);
  });
  if (missing.length > 0)
    throw new Ec2Error(
      'InvalidSnapshot.NotFound',
      `The snapshot${missing.length > 1 ? 's' : ''} '${missing.join(', ')}' ${missing.length > 1 ? 'do' : 'does'} not exist.`,
    );
  return ids.map((id) => ctx.state.snapshots.get(id)!);
}

/** `Owner.N`: `self`, `amazon` or account ids; undefined when not given. */
export function ownerIds(ctx: FakeContext, args: QueryArgs, name = 'Owner'): string[] | undefined {
  const owners = args.strings(name);
  if (owners.length === 0) return undefined;
  return owners.map((o) => (o === 'self' ? ctx.state.accountId : o === 'amazon' ? AMAZON_OWNER_ID : o));
}

function snapshotXml(s: FakeSnapshot): XmlObject {
  return {
    snapshotId: s.id,
    volumeId: s.volumeId,
    status: s.state,
    startTime: s.startTime,
    progress: `${s.progress}%`,
    ownerId: s.ownerId,
    volumeSize: s.volumeSize,
    description: s.description,
    encrypted: s.encrypted,
    tagSet: tagSet(s.tags),
  };
}
