import { SlipwayError } from '@slipway/contracts';
import type { StepContext } from '../tasks/model.js';
import type { ClusterRegistrySteps } from './cluster-registry.js';

export type { ClusterRegistrySteps } from './cluster-registry.js';

/** The registry steps a task gets: these when a registry plugin is configured, none otherwise. */
export function registrySteps(registry: ClusterRegistrySteps | undefined, names: string[]): string[] {
  return registry?.configured ? names : [];
}

/** Runs one registry step of any task (create, delete, rotate). */
export function runRegistryStep(
  registry: ClusterRegistrySteps | undefined,
  step: string,
  ctx: StepContext,
): Promise<void> {
  if (!registry?.configured) {
    const message = `task step ${step} needs the registry plugin, which is no longer configured; add registry: back to slipway.yaml or cancel the task`;
    throw new SlipwayError('InvalidConfig', message, { field: 'registry' });
  }
  switch (step) {
    case 'registry':
      return registry.ensure(ctx);
    case 'registry-teardown':
      return registry.teardown(ctx);
    case 'registry-robots':
      return registry.rotate(ctx);
    case 'registry-pull-secret':
      return registry.pullSecret(ctx);
    default:
      throw new SlipwayError('Internal', `unknown registry step ${step}`);
  }
}
