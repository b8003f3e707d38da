import type { ActionHandler, FakeContext } from './context.js';
import { visible } from './context.js';
import { Ec2Error, missingParameter, notFound } from './errors.js';
import { addTag } from './filters.js';
import { lookUpSnapshots } from './snapshots.js';
import { lookUpVolumes } from './volumes.js';

/** CreateTags: adds or overwrites tags on instances, volumes, snapshots and AMIs; the other tags stay. */
export const createTags: ActionHandler = (args, ctx) => {
  const ids = args.strings('ResourceId');
  if (ids.length === 0) throw missingParameter('ResourceId');
  const tags = args.list('Tag').map((t) => [t.str('Key') ?? '', t.str('Value') ?? ''] as const);
  if (tags.length === 0) throw missingParameter('Tag');
  const targets = ids.map((id) => taggable(ctx, id));
  for (const target of targets) {
    const next = new Map(target);
    for (const [key, value] of tags) addTag(next, key, value);
    target.clear();
    for (const [key, value] of next) target.set(key, value);
  }
  return { return: true };
};

export const deleteTags: ActionHandler = (args, ctx) => {
  const ids = args.strings('ResourceId');
  if (ids.length === 0) throw missingParameter('ResourceId');
  const keys = args.list('Tag').map((t) => [t.str('Key') ?? '', t.str('Value')] as const);
  for (const tags of ids.map((id) => taggable(ctx, id))) {
    for (const [key, value] of keys) if (value === undefined || tags.get(key) === value) tags.delete(key);
  }
  return { return: true };
};

function taggable(ctx: FakeContext, id: string): Map<string, string> {
  const prefix = id.split('-')[0];
  switch (prefix) {
    case 'i': {
      const instance = ctx.state.instances.get(id);
      if (!instance || !visible(ctx, instance)) throw notFound('InvalidInstanceID.NotFound', 'instance', [id]);
      return instance.tags;
    }
    case 'vol':
      return lookUpVolumes(ctx, [id])[0]!.tags;
    case 'snap':
      return lookUpSnapshots(ctx, [id])[0]!.tags;
    case 'ami': {
      const image = ctx.state.images.get(id);
      if (!image || image.ownerId !== ctx.state.accountId)
        throw new Ec2Error('InvalidAMIID.NotFound', `The image id '[${id}]' does not exist`);
      return image.tags;
    }
    default:
      throw new Ec2Error('InvalidID', `The ID '${id}' is not valid`);
  }
}
