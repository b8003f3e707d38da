export { HealthMonitor } from './health-monitor.js';
export { Resurrector, HEALTH_MONITOR_ACTOR, type ResurrectParams, type ResurrectionStatus } from './resurrector.js';
export { ResurrectionSteps, resurrectTask, RESURRECT_STEPS } from './resurrect-task.js';
export { RepairSteps, repairTask, REPAIR_STEPS, type RepairParams } from './repair-task.js';
export {
  Doctor,
  PROBLEM_TYPES,
  RESOLUTIONS,
  type DoctorReport,
  type Problem,
  type ProblemType,
  type Resolution,
} from './doctor.js';
export { HealthService, type ClusterHealthView, type RepairRequest } from './health-service.js';
export { AlertDispatcher, type RaiseAlert } from './alerts.js';
export { ALERT_SINKS, LogAlertSink, createAlertSinks, type AlertSinks } from './alert-sinks.js';
export {
  HealthRecords,
  INCIDENT_KINDS,
  INCIDENT_RESOLUTIONS,
  type IncidentKind,
  type IncidentResolution,
} from './health-records.js';
export { meltdownOf, type MeltdownState } from './meltdown-guard.js';
export { healthSettingsOf, detectionBounds, type HealthSettings } from './settings.js';
export { CloudSweep } from './cloud-sweep.js';
