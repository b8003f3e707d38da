import { SlipwayError } from '@slipway/contracts';
import { readMoRef } from './decode.js';
import { PLUGIN } from './errors.js';
import type { Inventory } from './inventory.js';
import { LIGHT_SUFFIX } from './naming.js';
import { withSignal } from './signals.js';
import type { MoRef } from './soap.js';
import type { Vim } from './vim.js';
import { child } from './xml.js';

/** A stemcell's template and the snapshot linked clones hang off, when it has one. */
export interface TemplateRef {
  ref: MoRef;
  snapshot?: MoRef;
}

/**
 * Finds the template behind a stemcell id: a light stemcell (`<path> light`) by its inventory path below the
 * datacenter's `vm` folder, a stemcell this driver made by its name in the template folder. Cached per id,
 * since templates change only through createStemcell/deleteStemcell; `forget` drops an entry a failed clone
 * may have found stale.
 */
export class Templates {
  private readonly cache = new Map<string, Promise<TemplateRef>>();

  constructor(
    private readonly vim: Vim,
    private readonly inventory: Inventory,
  ) {}

  resolve(stemcellId: string, signal?: AbortSignal): Promise<TemplateRef> {
    let pending = this.cache.get(stemcellId);
    if (!pending) {
      // Shared by concurrent createVm calls: its own deadline, each caller's signal through withSignal.
      const lookup = this.lookup(stemcellId, AbortSignal.timeout(60_000));
      pending = lookup;
      this.cache.set(stemcellId, lookup);
      lookup.catch(() => {
        if (this.cache.get(stemcellId) === lookup) this.cache.delete(stemcellId);
      });
    }
    return withSignal(pending, signal, 'template lookup');
  }

  forget(stemcellId: string): void {
    this.cache.delete(stemcellId);
  }

  /** The template behind a stemcell id, or undefined when it does not exist. */
  async find(stemcellId: string, signal?: AbortSignal): Promise<MoRef | undefined> {
    if (stemcellId.endsWith(LIGHT_SUFFIX)) {
      return this.vim.findByInventoryPath(this.inventory.vmPath(stemcellId.slice(0, -LIGHT_SUFFIX.length)), { signal });
    }
    const placement = await this.inventory.placement(signal);
    return this.vim.findChild(placement.templateFolder, stemcellId, { signal });
  }

  private async lookup(stemcellId: string, signal?: AbortSignal): Promise<TemplateRef> {
    const ref = await this.find(stemcellId, signal);
    const props = ref ? await this.vim.propertiesOf(ref, ['snapshot'], { signal }) : undefined;
    if (!ref || !props) {
      throw new SlipwayError(
        'VmCreationFailed',
        `stemcell ${stemcellId} has no template in vCenter (was it deleted?)`,
        { plugin: PLUGIN, field: 'stemcellId' },
      );
    }
    const snapshot = readMoRef(child(props.get('snapshot'), 'currentSnapshot'));
    return { ref, ...(snapshot ? { snapshot } : {}) };
  }
}
