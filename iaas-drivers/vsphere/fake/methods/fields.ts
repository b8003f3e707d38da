import { argText, optionalArg, refOf, type MethodHandler } from '../context.js';
import { VimFaultError } from '../faults.js';
import { el, obj, ref } from '../xml-out.js';
import { invalidArgument } from './vm.js';

/** CustomFieldsManager: custom attribute definitions and their values on VMs. */
export const fieldMethods: Record<string, MethodHandler> = {
  AddCustomFieldDef: {
    handle: (ctx, call) => {
      const name = argText(call, 'name');
      const moType = optionalArg(call, 'moType')?.text;
      if (name === '') throw invalidArgument('name');
      const clash = ctx.inventory.fieldDefs.find(
        (d) =>
          d.name === name &&
          (d.managedObjectType === undefined || moType === undefined || d.managedObjectType === moType),
      );
      if (clash) {
        throw new VimFaultError(
          'DuplicateName',
          `The name '${name}' already exists.`,
          el('name', name) + ref('object', call.request.self),
        );
      }
      const def = { key: ctx.inventory.nextFieldKey(), name, ...(moType ? { managedObjectType: moType } : {}) };
      ctx.inventory.fieldDefs.push(def);
      return {
        body: obj(
          'returnval',
          undefined,
          el('key', def.key),
          el('name', def.name),
          el('type', 'string'),
          el('managedObjectType', def.managedObjectType),
        ),
      };
    },
  },
  SetField: {
    handle: (ctx, call) => {
      const entity = ctx.inventory.get(refOf(optionalArg(call, 'entity')));
      const key = Number(argText(call, 'key'));
      const value = optionalArg(call, 'value')?.text ?? '';
      const def = ctx.inventory.fieldDefs.find((d) => d.key === key);
      if (!def || (def.managedObjectType !== undefined && def.managedObjectType !== entity.ref.type))
        throw invalidArgument('key');
      if (entity.kind !== 'VirtualMachine')
        throw new VimFaultError('NotSupported', 'The fake vCenter keeps custom values on VMs only');
      entity.customValues.set(key, value);
      return { body: '' };
    },
  },
};
