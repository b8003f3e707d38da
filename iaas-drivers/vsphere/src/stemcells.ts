import { SlipwayError, type CallOptions, type CreateStemcellInput } from '@slipway/contracts';
import { runTask, stringProperty, type VsphereContext } from './context.js';
import { readMoRef } from './decode.js';
import { PLUGIN } from './errors.js';
import type { Placement } from './inventory.js';
import { LIGHT_SUFFIX, stemcellName } from './naming.js';
import { faultTypeOf } from './session.js';
import { throwIfCancelled } from './signals.js';
import type { MoRef } from './soap.js';
import { cloneSpec } from './specs.js';
import { child } from './xml.js';

/** The snapshot linked clones are children of. */
export const BASE_SNAPSHOT = 'slipway-linked-clone-base';

/** The stemcell verbs: a stemcell is a template VM. */
export class StemcellOperations {
  constructor(private readonly ctx: VsphereContext) {}

  /**
   * A light stemcell (`cloud_properties.template`: a path below the datacenter's `vm` folder) uses the
   * operator's template as it is and is never deleted. Otherwise the source template
   * (`cloud_properties.source_template`, else the config's `base_template`) is cloned into the template folder,
   * snapshotted (so VMs can be linked clones without touching the operator's template) and marked as a
   * template. Idempotent through the template's name, derived from the request id; a template an earlier
   * attempt left half made is finished.
   */
  async create(input: CreateStemcellInput, options: CallOptions = {}): Promise<{ stemcellId: string }> {
    const { signal, requestId } = options;
    throwIfCancelled('createStemcell', signal);
    const light = stringProperty(input.cloudProperties, 'template');
    if (light) {
      const found = await this.ctx.vim.findByInventoryPath(this.ctx.inventory.vmPath(light), { signal });
      if (found?.type !== 'VirtualMachine') {
        throw new SlipwayError(
          'InvalidInput',
          `vSphere has no template at ${this.ctx.inventory.vmPath(light)}${found ? ` (it is a ${found.type})` : ''}`,
          { plugin: PLUGIN, field: 'cloudProperties.template' },
        );
      }
      return { stemcellId: light + LIGHT_SUFFIX };
    }
    if (input.imagePath) {
      throw new SlipwayError('Unsupported', `the vSphere driver does not upload stemcell images (${input.imagePath})`, {
        plugin: PLUGIN,
        field: 'imagePath',
        hint: 'Import the OVA into vCenter as a template (govc import.ova -folder=… image.ova), then register it with cloud_properties.template, or configure base_template.',
      });
    }
    const source = stringProperty(input.cloudProperties, 'source_template') ?? this.ctx.config.base_template;
    if (!source) {
      throw new SlipwayError(
        'InvalidInput',
        `stemcell ${input.name}/${input.version} names no template: set cloud_properties.template (light), cloud_properties.source_template, or base_template in the config`,
        { plugin: PLUGIN, field: 'cloudProperties.template' },
      );
    }
    const name = stemcellName(input.name, input.version, requestId);
    const placement = await this.ctx.inventory.placement(signal);
    const template =
      (await this.ctx.vim.findChild(placement.templateFolder, name, { signal })) ??
      (await this.clone(source, name, placement, signal));
    try {
      await this.finish(template, signal);
    } catch (error) {
      if (!(SlipwayError.is(error) && (error.retryable || error.code === 'Cancelled') && requestId))
        await this.destroyQuietly(template, name);
      throw error;
    }
    return { stemcellId: name };
  }

  /** Destroy_Task on the template; a light stemcell's template belongs to the operator and stays. */
  async delete(stemcellId: string, options: CallOptions = {}): Promise<void> {
    const { signal } = options;
    if (stemcellId.endsWith(LIGHT_SUFFIX)) return;
    this.ctx.templates.forget(stemcellId);
    const template = await this.ctx.templates.find(stemcellId, signal);
    if (!template) return;
    try {
      await runTask(this.ctx, 'Destroy_Task', this.ctx.vim.destroy(template, { signal }), { signal });
    } catch (error) {
      if (faultTypeOf(error) !== 'ManagedObjectNotFound') throw error;
    }
  }

  private async clone(source: string, name: string, placement: Placement, signal?: AbortSignal): Promise<MoRef> {
    const sourcePath = this.ctx.inventory.vmPath(source);
    const from = await this.ctx.vim.findByInventoryPath(sourcePath, { signal });
    if (!from)
      throw new SlipwayError('InvalidConfig', `vSphere has no source template at ${sourcePath}`, {
        plugin: PLUGIN,
        field: 'base_template',
      });
    const spec = cloneSpec({
      location: { datastore: placement.datastore, pool: placement.pool },
      template: false,
      powerOn: false,
    });
    try {
      const vm = readMoRef(
        await runTask(
          this.ctx,
          'CloneVM_Task',
          this.ctx.vim.cloneVm(from, placement.templateFolder, name, spec, { signal }),
          { signal },
        ),
      );
      if (!vm)
        throw new SlipwayError('CloudError', `vSphere CloneVM_Task for ${name} succeeded without naming the new VM`, {
          plugin: PLUGIN,
        });
      return vm;
    } catch (error) {
      if (faultTypeOf(error) !== 'DuplicateName') throw error;
      const existing = await this.ctx.vim.findChild(placement.templateFolder, name, { signal });
      if (existing) return existing;
      throw new SlipwayError(
        'Conflict',
        `vSphere template ${name} is being created by another call with the same request id`,
        { plugin: PLUGIN, retryable: true, cause: error },
      );
    }
  }

  /** Snapshot (a template cannot take one), then MarkAsTemplate; each skipped when already done. */
  private async finish(vm: MoRef, signal?: AbortSignal): Promise<void> {
    const props = await this.ctx.vim.propertiesOf(vm, ['config.template', 'snapshot'], { signal });
    if (!props)
      throw new SlipwayError('Retryable', `vSphere template ${vm.value} disappeared while it was being made`, {
        plugin: PLUGIN,
      });
    if (props.get('config.template')?.text === 'true') return;
    if (!readMoRef(child(props.get('snapshot'), 'currentSnapshot'))) {
      await runTask(
        this.ctx,
        'CreateSnapshot_Task',
        this.ctx.vim.createSnapshot(vm, BASE_SNAPSHOT, 'Base of the linked clones Slipway makes from this stemcell', {
          signal,
        }),
        { signal },
      );
    }
    await this.ctx.vim.markAsTemplate(vm, { signal });
  }

  private async destroyQuietly(vm: MoRef, name: string): Promise<void> {
    try {
      await runTask(this.ctx, 'Destroy_Task', this.ctx.vim.destroy(vm, { signal: AbortSignal.timeout(120_000) }), {
        signal: AbortSignal.timeout(120_000),
      });
    } catch (cleanup) {
      this.ctx.logger.warn('could not destroy the template of a failed createStemcell', {
        template: name,
        error: String(cleanup),
      });
    }
  }
}
