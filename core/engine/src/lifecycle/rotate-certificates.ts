import { inject, injectable } from 'tsyringe';
import { SlipwayError } from '@slipway/contracts';
import { ENGINE_ACTOR } from '../agents/agent-identity.js';
import { rotateClusterCa, rotateClusterLeaves } from '../cluster-pki.js';
import type { PluginSet } from '../plugins/plugin-set.js';
import type { StepContext, TaskDefinition } from '../tasks/model.js';
import { PLUGINS } from '../tokens.js';
import { RollingUpdater } from '../upgrades/rolling-updater.js';
import { registrySteps, runRegistryStep, type ClusterRegistrySteps } from '../registry/task-steps.js';

/**
 * `ca`: a new CA in three phases, then new leaves; `leaf`: new leaves under the same CAs; `registry`: only new
 * secrets for the cluster's registry robots (each of the others rotates them too).
 */
export type RotationMode = 'ca' | 'leaf' | 'registry';
export interface RotateParams {
  mode: RotationMode;
  /** Started by the certificate watch (certificates.renew_before_days), not by a user. */
  automatic?: boolean;
}

/**
 * Certificate rotation without downtime. A CA rotation runs the credential store's three phases and rolls
 * the cluster after each, so every node trusts the new CA before anything is signed by it, and trusts
 * only the new CA once nothing signed by the old one is left:
 *   add-new-ca      the new CA is stored as transitional: trust bundles hold old and new
 *   reissue-leaves  every leaf is signed by the new CA (which becomes current); bundles still hold both
 *   remove-old-ca   the old CA leaves the bundles; a kubeconfig signed by it stops working
 * Every step is idempotent: a phase re-run in order changes nothing more, and a roll skips the nodes it
 * already replaced.
 */
@injectable()
export class CertificateRotationSteps {
  constructor(
    @inject(PLUGINS) private readonly plugins: PluginSet,
    @inject(RollingUpdater) private readonly rolling: RollingUpdater,
  ) {}

  async phase(ctx: StepContext, phase: 'add-new-ca' | 'reissue-leaves' | 'remove-old-ca'): Promise<void> {
    // Each phase is idempotent in order, and the runner re-runs only the step that was running.
    const result = await rotateClusterCa(this.plugins.credentials, ENGINE_ACTOR, ctx.cluster.uuid, phase);
    await ctx.detail(
      `${phase}: ${result.cas.length} CAs${result.regenerated.length ? `, ${result.regenerated.length} certificates reissued` : ''}`,
    );
  }

  async leaves(ctx: StepContext): Promise<void> {
    const names = await rotateClusterLeaves(this.plugins.credentials, ENGINE_ACTOR, ctx.cluster.uuid);
    await ctx.detail(`${names.length} leaf certificates reissued`);
  }

  roll(ctx: StepContext, phase: string): Promise<void> {
    return this.rolling.rollForCertificates(ctx, phase);
  }
}

const CA_STEPS = ['add-new-ca', 'roll-trust', 'reissue-leaves', 'roll-leaves', 'remove-old-ca', 'roll-final'];
const LEAF_STEPS = ['reissue-leaves', 'roll-leaves'];

const REGISTRY_STEPS = ['registry-robots', 'registry-pull-secret'];

export function rotateCertificatesTask(
  steps: CertificateRotationSteps,
  registry?: ClusterRegistrySteps,
): TaskDefinition<RotateParams> {
  return {
    type: 'ROTATE',
    // Robot secrets first: nodes take the new pull secret at their next sync (no roll needed for it).
    steps: (params) => [...registrySteps(registry, REGISTRY_STEPS), ...modeSteps(params.mode)],
    async run(step, ctx) {
      if (step.startsWith('registry')) return runRegistryStep(registry, step, ctx);
      const ca = ctx.params.mode === 'ca';
      switch (step) {
        case 'add-new-ca':
          return steps.phase(ctx, 'add-new-ca');
        case 'roll-trust':
          return steps.roll(ctx, 'trust-new-ca');
        case 'reissue-leaves':
          return ca ? steps.phase(ctx, 'reissue-leaves') : steps.leaves(ctx);
        case 'roll-leaves':
          return steps.roll(ctx, 'new-leaves');
        case 'remove-old-ca':
          return steps.phase(ctx, 'remove-old-ca');
        case 'roll-final':
          return steps.roll(ctx, 'drop-old-ca');
        default:
          throw new SlipwayError('Internal', `unknown ROTATE step ${step}`);
      }
    },
  };
}

function modeSteps(mode: RotationMode): string[] {
  switch (mode) {
    case 'ca':
      return CA_STEPS;
    case 'leaf':
      return LEAF_STEPS;
    case 'registry':
      return [];
    default: {
      const never: never = mode;
      throw new SlipwayError('Internal', `unknown rotation mode ${String(never)}`);
    }
  }
}
