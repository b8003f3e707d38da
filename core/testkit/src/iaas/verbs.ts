import { IAAS_CAPABILITIES, type IaasCapability } from '@slipway/contracts';

/** Verbs every IaaS driver implements. */
export const REQUIRED_IAAS_VERBS = [
  'info',
  'createStemcell',
  'deleteStemcell',
  'createVm',
  'deleteVm',
  'hasVm',
  'setVmMetadata',
  'createDisk',
  'deleteDisk',
  'attachDisk',
  'detachDisk',
  'hasDisk',
  'getDisks',
  'destroy',
] as const;

/** What a driver must offer once it declares a capability. */
export const CAPABILITY_MEMBERS: Readonly<Record<IaasCapability, readonly string[]>> = Object.freeze({
  'vm.reboot': ['rebootVm'],
  'disk.resize': ['resizeDisk'],
  'disk.snapshot': ['snapshotDisk', 'deleteSnapshot'],
  inventory: ['listResources'],
  rehearsal: ['rehearsal'],
});

/**
 * The members a driver instance lacks: required verbs that are not functions, and what its declared
 * capabilities promise (`disk.snapshot` -> snapshotDisk, deleteSnapshot). Empty when complete.
 */
export function missingIaasVerbs(driver: object, capabilities: readonly string[] = []): string[] {
  const record = driver as Record<string, unknown>;
  const missing: string[] = REQUIRED_IAAS_VERBS.filter((verb) => typeof record[verb] !== 'function');
  for (const capability of capabilities) {
    if (!isIaasCapability(capability)) continue;
    for (const member of CAPABILITY_MEMBERS[capability]) {
      const present =
        member === 'rehearsal'
          ? typeof record[member] === 'object' && record[member] !== null
          : typeof record[member] === 'function';
      if (!present) missing.push(`${member} (capability ${capability})`);
    }
  }
  return missing;
}

export function isIaasCapability(value: string): value is IaasCapability {
  return (IAAS_CAPABILITIES as readonly string[]).includes(value);
}
