import { ArmHttpError, objectAt, stringTags } from './http.js';
import { resourceNotFound } from './resource-rules.js';
import { SEGMENT, groupPath, type FakeContext, type Reply, type Route, type RouteCall } from './routes.js';

/** The resource types whose tags the fake's Tags API reaches, by provider path. */
const TAGGABLE = [
  'Microsoft.Compute/virtualMachines',
  'Microsoft.Compute/disks',
  'Microsoft.Compute/snapshots',
  'Microsoft.Compute/images',
  'Microsoft.Network/networkInterfaces',
] as const;
type Taggable = (typeof TAGGABLE)[number];

/** Microsoft.Resources/tags at a resource's scope: read, and update with Merge, Replace or Delete. */
export function tagRoutes(ctx: FakeContext): Route[] {
  const path = groupPath(
    `(${TAGGABLE.map((t) => t.replace('.', '\\.')).join('|')})/${SEGMENT}/providers/Microsoft\\.Resources/tags/default`,
  );
  const base = { schedule: 'resources' as const, resourceType: 'Microsoft.Resources/tags', path };
  return [
    { ...base, method: 'GET', operation: 'Tags_GetAtScope', handle: (call) => view(ctx, call, holder(ctx, call).tags) },
    {
      ...base,
      method: 'PATCH',
      operation: 'Tags_UpdateAtScope',
      handle: (call) => {
        const target = holder(ctx, call);
        const tags = stringTags(objectAt(call.body.properties).tags, 'properties.tags');
        switch (call.body.operation) {
          case 'Merge':
            target.tags = { ...target.tags, ...tags };
            break;
          case 'Replace':
            target.tags = tags;
            break;
          case 'Delete':
            target.tags = Object.fromEntries(
              Object.entries(target.tags).filter(
                ([k, v]) => tags[k] === undefined || (tags[k] !== '' && tags[k] !== v),
              ),
            );
            break;
          default:
            throw new ArmHttpError(
              400,
              'InvalidRequestContent',
              `The value '${String(call.body.operation)}' of 'operation' is invalid; it must be Merge, Replace or Delete.`,
            );
        }
        if (Object.keys(target.tags).length > 50)
          throw new ArmHttpError(400, 'InvalidTagCount', 'The resource has more than 50 tags.');
        return view(ctx, call, target.tags);
      },
    },
  ];
}

function holder(ctx: FakeContext, call: RouteCall): { tags: Record<string, string> } {
  const type = TAGGABLE.find((t) => t.toLowerCase() === call.params[2]!.toLowerCase()) as Taggable;
  const key = call.params[3]!.toLowerCase();
  const { state } = ctx;
  const found =
    type === 'Microsoft.Compute/virtualMachines'
      ? state.vms.get(key)
      : type === 'Microsoft.Compute/disks'
        ? state.disks.get(key)
        : type === 'Microsoft.Compute/snapshots'
          ? state.snapshots.get(key)
          : type === 'Microsoft.Compute/images'
            ? state.images.get(key)
            : state.nics.get(key);
  if (!found) throw resourceNotFound(ctx, type, call.params[3]!);
  return found;
}

function view(ctx: FakeContext, call: RouteCall, tags: Record<string, string>): Reply {
  const scope = `${ctx.state.groupId()}/providers/${call.params[2]}/${call.params[3]}`;
  return {
    status: 200,
    body: {
      id: `${scope}/providers/Microsoft.Resources/tags/default`,
      name: 'default',
      type: 'Microsoft.Resources/tags',
      properties: { tags },
    },
  };
}
