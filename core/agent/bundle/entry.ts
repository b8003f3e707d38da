/**
 * The entry of the bundled agent (`scripts/bundle.mjs` makes one file of it): the agent program with the
 * metadata reader of every in-repo cloud built in, chosen by name (`--metadata aws`), so a VM image needs
 * Node and this one file. `file:` and `module:SPECIFIER#EXPORT` work as in the unbundled program (a
 * module is imported from the image's disk: a cloud outside this repo ships its reader that way).
 *
 * This file lives outside `src/` on purpose: the drivers' tests depend on the agent (through the testkit),
 * so the agent's own project cannot reference the drivers without a cycle. esbuild resolves the drivers'
 * TypeScript sources (the `source` export condition); `npx tsc -p core/agent/bundle` type-checks it.
 */
import { Ec2InstanceMetadataService } from '@slipway/iaas-aws/metadata';
import { AzureImdsMetadata } from '@slipway/iaas-azure/metadata';
import { GceMetadataServer } from '@slipway/iaas-gcp/metadata';
import { localMetadataSource } from '@slipway/iaas-local/metadata';
import { OpenStackConfigDrive, OpenStackMetadataService } from '@slipway/iaas-openstack/metadata';
import { VsphereGuestInfo, vmtoolsdReader } from '@slipway/iaas-vsphere/metadata';
import { runAgentProgram, type NamedMetadataSources } from '../src/cli.js';

function required(name: string, argument: string | undefined, what: string): string {
  if (!argument)
    throw new Error(`--metadata ${name} needs ${what}: --metadata ${name}:${what.toUpperCase().replace(/ /g, '_')}`);
  return argument;
}

/**
 * Every cloud's reader by name. The optional argument of the metadata-service readers is the service's root
 * URL (a fake's, in tests; the link-local default on the cloud).
 */
export const CLOUD_METADATA_SOURCES: NamedMetadataSources = {
  aws: {
    describe: 'EC2 UserData from the instance metadata service, IMDSv2 (http://169.254.169.254)',
    argument: 'URL',
    create: (url) => new Ec2InstanceMetadataService(url ? { baseUrl: url } : {}),
  },
  gcp: {
    describe:
      'instance attribute slipway-agent-settings from the GCE metadata server (http://metadata.google.internal)',
    argument: 'URL',
    create: (url) => new GceMetadataServer(url),
  },
  azure: {
    describe: "userData from Azure IMDS (http://169.254.169.254), else customData from waagent's files",
    argument: 'URL',
    create: (url) => new AzureImdsMetadata(url ? { baseUrl: url } : {}),
  },
  openstack: {
    describe: 'Nova user_data from the OpenStack metadata service (http://169.254.169.254)',
    argument: 'URL',
    create: (url) => new OpenStackMetadataService(url),
  },
  'openstack-config-drive': {
    describe: 'user_data from an OpenStack config drive (label config-2) the image mounts at MOUNT_PATH',
    argument: 'MOUNT_PATH',
    argumentRequired: true,
    create: (path) => new OpenStackConfigDrive(required('openstack-config-drive', path, 'mount path')),
  },
  vsphere: {
    describe: 'guestinfo.userdata through VMware Tools (vmtoolsd --cmd "info-get ...", open-vm-tools)',
    argument: 'VMTOOLSD',
    create: (command) => new VsphereGuestInfo(vmtoolsdReader(command ? { command } : {})),
  },
  local: {
    describe: "the local driver's files of VM VM_ID under its root (it starts agents with file: itself)",
    argument: 'DRIVER_ROOT,VM_ID',
    argumentRequired: true,
    create: (argument) => {
      const [root, vmId] = required('local', argument, 'driver root,vm id').split(',');
      if (!root || !vmId) throw new Error(`--metadata local:${argument}: expected local:DRIVER_ROOT,VM_ID`);
      return localMetadataSource(root, vmId);
    },
  },
};

runAgentProgram(process.argv.slice(2), { metadataSources: CLOUD_METADATA_SOURCES });
