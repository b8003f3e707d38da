export {
  VersionCatalog,
  DEFAULT_KUBERNETES_VERSIONS,
  compareStemcellVersions,
  parseStemcell,
  stemcellLabel,
  type Stemcell,
} from './version-catalog.js';
export {
  resolveStrategy,
  parseWatchTime,
  countOf,
  nextBatch,
  DEFAULT_UPDATE,
  type UpdateStrategy,
  type StrategyOverrides,
  type WatchTime,
  type RollMember,
} from './update-strategy.js';
export { RollingUpdater, type RollRequest, type RollTarget } from './rolling-updater.js';
export { InstanceReplacer, type ReplaceProgress } from './instance-replacer.js';
export { InstanceSpecs, canonicalJson, sameSpec, type InstanceSpec } from './instance-specs.js';
export { ApiEndpoint } from './api-endpoint.js';
export {
  UpgradeSteps,
  upgradeClusterTask,
  updateClusterTask,
  updateTaskVariants,
  type UpgradeParams,
  type UpdateParams,
} from './upgrade-tasks.js';
export { UpgradeService, type UpgradeRequest, type UpdateRequest, type AvailableUpgrades } from './upgrade-service.js';
export {
  FleetUpgrader,
  FLEET_STATES,
  MEMBER_STATES,
  type FleetUpgradeRequest,
  type FleetUpgradeView,
  type FleetState,
  type MemberState,
  type FleetParams,
} from './fleet-upgrader.js';
