import { arg, argText, refOf, type MethodHandler } from '../context.js';
import { SERVICE_CONTENT_REFS } from '../seed.js';
import type { FakeInventory, FakeObject } from '../state.js';
import { ref } from '../xml-out.js';

/** SearchIndex.FindByInventoryPath and FindChild; both answer nothing (no returnval) when nothing is there. */
export const searchMethods: Record<string, MethodHandler> = {
  FindByInventoryPath: {
    handle: (ctx, call) => {
      const found = byInventoryPath(ctx.inventory, argText(call, 'inventoryPath'));
      return { body: found ? ref('returnval', found.ref) : '' };
    },
  },
  FindChild: {
    handle: (ctx, call) => {
      const container = ctx.inventory.get(refOf(arg(call, 'entity')));
      const found = ctx.inventory.childNamed(container, argText(call, 'name'));
      return { body: found ? ref('returnval', found.ref) : '' };
    },
  },
};

/** Walks `dc/vm/folder/name` from the root folder by names; `%2f` in a segment is a `/` in a name. */
export function byInventoryPath(inventory: FakeInventory, path: string): FakeObject | undefined {
  let current: FakeObject | undefined = inventory.get(SERVICE_CONTENT_REFS.rootFolder);
  for (const segment of path.split('/').filter((s) => s !== '')) {
    const name = segment.replace(/%2f/gi, '/').replace(/%5c/gi, '\\').replace(/%25/g, '%');
    current = current ? inventory.childNamed(current, name) : undefined;
    if (!current) return undefined;
  }
  return current;
}
