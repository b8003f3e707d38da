import type { CommandGroup } from '../registry.js';
import { backupCommands } from './backup.js';
import { certificateCommands } from './certificates.js';
import { clusterCommands } from './clusters.js';
import { controlPlaneCommands } from './control-plane.js';
import { credentialImportCommands } from './credential-import.js';
import { credentialCommands } from './credentials.js';
import { eventCommands } from './events.js';
import { healthCommands } from './health.js';
import { fakeCommands } from './fakes.js';
import { kubeconfigCommands } from './kubeconfig.js';
import { networkProfileCommands } from './network-profiles.js';
import { planCommands } from './plans.js';
import { pluginCommands } from './plugins.js';
import { sandboxCommands } from './sandbox.js';
import { sessionCommands } from './session.js';
import { taskCommands } from './tasks.js';
import { upgradeCommands } from './upgrades.js';
import { userCommands } from './users.js';

/** Every command group, in the order `slipway --help` lists them. A new group is one file and one line here. */
export const COMMAND_GROUPS: CommandGroup[] = [
  controlPlaneCommands,
  backupCommands,
  credentialImportCommands,
  sessionCommands,
  planCommands,
  clusterCommands,
  networkProfileCommands,
  certificateCommands,
  kubeconfigCommands,
  taskCommands,
  eventCommands,
  credentialCommands,
  userCommands,
  healthCommands,
  upgradeCommands,
  sandboxCommands,
  pluginCommands,
  fakeCommands,
];
