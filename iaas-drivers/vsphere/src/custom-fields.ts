import { readCustomValues, readFieldDefs, type CustomFieldDef } from './decode.js';
import { faultTypeOf } from './session.js';
import { Memo, throwIfCancelled, withSignal } from './signals.js';
import type { MoRef } from './soap.js';
import type { Vim } from './vim.js';
import type { XmlElement } from './xml.js';

/**
 * VM metadata as vCenter custom attributes: CustomFieldsManager definitions (one per key, for
 * VirtualMachine) and SetField values. SetField sets one key and leaves the others, so metadata merges.
 * Definitions are read once and added on first use; one added elsewhere meanwhile (DuplicateName) is read again.
 */
export class CustomFields {
  private readonly defs: Memo<Map<string, CustomFieldDef>>;
  private readonly adding = new Map<string, Promise<number>>();

  constructor(private readonly vim: Vim) {
    this.defs = new Memo(() => this.readDefs());
  }

  /** Sets every pair on the entity, adding definitions that do not exist yet. SetField calls go out together. */
  async set(entity: MoRef, values: Record<string, string>, signal?: AbortSignal): Promise<void> {
    await Promise.all(
      Object.entries(values).map(async ([name, value]) => {
        const key = await this.keyOf(name, signal);
        await this.vim.setField(entity, key, value, { signal });
      }),
    );
  }

  /** An entity's `customValue` by field name. */
  async namedValues(customValue: XmlElement | undefined, signal?: AbortSignal): Promise<Record<string, string>> {
    const values = readCustomValues(customValue);
    if (values.size === 0) return {};
    let defs = await withSignal(this.defs.get(), signal, 'custom field definitions');
    if ([...values.keys()].some((key) => ![...defs.values()].some((d) => d.key === key))) {
      // A field someone added after our read: read the definitions again.
      this.defs.clear();
      defs = await withSignal(this.defs.get(), signal, 'custom field definitions');
    }
    const byKey = new Map([...defs.values()].map((d) => [d.key, d.name]));
    const out: Record<string, string> = {};
    for (const [key, value] of values) {
      const name = byKey.get(key);
      if (name !== undefined) out[name] = value;
    }
    return out;
  }

  private async keyOf(name: string, signal?: AbortSignal): Promise<number> {
    const known = (await withSignal(this.defs.get(), signal, 'custom field definitions')).get(name);
    if (known) return known.key;
    let pending = this.adding.get(name);
    if (!pending) {
      pending = this.add(name);
      this.adding.set(name, pending);
      void pending.finally(() => this.adding.delete(name)).catch(() => undefined);
    }
    throwIfCancelled('AddCustomFieldDef', signal);
    return withSignal(pending, signal, 'AddCustomFieldDef');
  }

  private async add(name: string): Promise<number> {
    try {
      const def = await this.vim.addCustomFieldDef(name, 'VirtualMachine', { signal: AbortSignal.timeout(60_000) });
      (await this.defs.get()).set(name, def);
      return def.key;
    } catch (error) {
      if (faultTypeOf(error) !== 'DuplicateName') throw error;
      this.defs.clear();
      const def = (await this.defs.get()).get(name);
      if (!def) throw error;
      return def.key;
    }
  }

  private async readDefs(): Promise<Map<string, CustomFieldDef>> {
    const { customFieldsManager } = await this.vim.content();
    const props = await this.vim.propertiesOf(customFieldsManager, ['field'], { signal: AbortSignal.timeout(60_000) });
    const defs = new Map<string, CustomFieldDef>();
    for (const def of readFieldDefs(props?.get('field'))) {
      // A global field (no type) applies to VMs too; a VM one wins over it.
      if (def.managedObjectType === undefined || def.managedObjectType === 'VirtualMachine') {
        if (!defs.has(def.name) || def.managedObjectType === 'VirtualMachine') defs.set(def.name, def);
      }
    }
    return defs;
  }
}
