import { FileMetadataSource } from '@slipway/agent';
import type { MetadataSource } from '@slipway/contracts';
import { vmLayout } from './machine.js';

/**
 * The agent side of the local driver: a VM's agent reads its settings from the user-data file the driver
 * wrote into the VM's directory, and its address and attached disks from the meta-data file beside it.
 * The agent program gets the same through `--metadata file:USER_DATA,META_DATA`; this is for in-process use.
 */
export function localMetadataSource(root: string, vmId: string): MetadataSource {
  const layout = vmLayout(root, vmId);
  return new FileMetadataSource(layout.userData, layout.metaData);
}
