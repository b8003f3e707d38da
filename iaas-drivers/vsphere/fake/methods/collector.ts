import {
  arg,
  child,
  childBool,
  children,
  refOf,
  type FakeContext,
  type MethodCall,
  type MethodHandler,
} from '../context.js';
import { checkSequence } from '../envelope.js';
import { VimFaultError } from '../faults.js';
import { propertyOf } from '../properties.js';
import type { FakeObject } from '../state.js';
import { el, ref, typed } from '../xml-out.js';

/** Types a PropertySpec may name for an object, besides its own (vim25's ManagedEntity hierarchy, in part). */
const SUPERTYPES: Record<string, readonly string[]> = {
  VirtualMachine: ['ManagedEntity'],
  Folder: ['ManagedEntity'],
  Datacenter: ['ManagedEntity'],
  ResourcePool: ['ManagedEntity'],
  ClusterComputeResource: ['ComputeResource', 'ManagedEntity'],
  HostSystem: ['ManagedEntity'],
  Datastore: ['ManagedEntity'],
};

/**
 * PropertyCollector.RetrievePropertiesEx / RetrieveProperties: the properties of the objects an ObjectSpec
 * names. Traversal (selectSet) is left out of the fake: the driver names every object it reads. A reference to
 * an object that is gone is a ManagedObjectNotFound fault, as on vCenter.
 */
function retrieve(ctx: FakeContext, call: MethodCall): string {
  const specs = call.request.args.filter((a) => a.name === 'specSet');
  if (specs.length === 0) throw new VimFaultError('InvalidRequest', 'Required parameter specSet is missing');
  const objects: string[] = [];
  for (const spec of specs) {
    checkSequence(spec);
    const propSpecs = children(spec, 'propSet');
    for (const objectSpec of children(spec, 'objectSet')) {
      if (children(objectSpec, 'selectSet').length > 0) {
        throw new VimFaultError(
          'NotSupported',
          'The fake vCenter does not implement PropertyCollector traversal (selectSet)',
        );
      }
      const reference = refOf(child(objectSpec, 'obj'));
      const object = ctx.inventory.get(reference);
      if (childBool(objectSpec, 'skip')) continue;
      const props: string[] = [];
      for (const propSpec of propSpecs) {
        const type = child(propSpec, 'type')?.text ?? '';
        if (type !== object.ref.type && !(SUPERTYPES[object.ref.type] ?? []).includes(type)) continue;
        if (childBool(propSpec, 'all'))
          throw new VimFaultError(
            'NotSupported',
            'The fake vCenter does not implement PropertySpec.all; name the paths',
          );
        for (const path of children(propSpec, 'pathSet').map((p) => p.text)) {
          const value = propertyOf(object as FakeObject, path, ctx.inventory);
          if (value) props.push(`<propSet>${el('name', path)}${typed('val', value)}</propSet>`);
        }
      }
      objects.push(`<objects>${ref('obj', object.ref)}${props.join('')}</objects>`);
    }
  }
  return objects.join('');
}

export const collectorMethods: Record<string, MethodHandler> = {
  RetrievePropertiesEx: {
    handle: (ctx, call) => {
      arg(call, 'options');
      const objects = retrieve(ctx, call);
      // No objects: vCenter answers an empty response, without a RetrieveResult.
      return { body: objects ? `<returnval>${objects}</returnval>` : '' };
    },
  },
  RetrieveProperties: {
    handle: (ctx, call) => ({
      body: retrieve(ctx, call)
        .replace(/<objects>/g, '<returnval>')
        .replace(/<\/objects>/g, '</returnval>'),
    }),
  },
  ContinueRetrievePropertiesEx: {
    // The fake answers every retrieve in one page, so no token it gave can be continued.
    handle: () => {
      throw new VimFaultError(
        'InvalidArgument',
        'A specified parameter was not correct: token',
        el('invalidProperty', 'token'),
      );
    },
  },
};
