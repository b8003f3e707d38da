import { AlertDispatcher } from './alerts.js';
import { Doctor } from './doctor.js';
import { HealthMonitor } from './health-monitor.js';
import { HealthService } from './health-service.js';
import { RepairSteps } from './repair-task.js';
import { ResurrectionSteps } from './resurrect-task.js';
import { Resurrector } from './resurrector.js';
import { ApiEndpoint } from '../upgrades/api-endpoint.js';
import { FleetUpgrader } from '../upgrades/fleet-upgrader.js';
import { InstanceReplacer } from '../upgrades/instance-replacer.js';
import { RollingUpdater } from '../upgrades/rolling-updater.js';
import { UpgradeService } from '../upgrades/upgrade-service.js';
import { UpgradeSteps } from '../upgrades/upgrade-tasks.js';
import { VersionCatalog } from '../upgrades/version-catalog.js';

/**
 * The classes of "keep clusters alive" (health monitor, resurrector, doctor, rolling updates, fleet) that
 * hold state and must be one per engine: the composition root registers them as singletons.
 */
export const KEEPALIVE_SINGLETONS = [
  AlertDispatcher,
  Resurrector,
  HealthMonitor,
  HealthService,
  Doctor,
  ResurrectionSteps,
  RepairSteps,
  VersionCatalog,
  InstanceReplacer,
  ApiEndpoint,
  RollingUpdater,
  UpgradeSteps,
  FleetUpgrader,
  UpgradeService,
] as const;
