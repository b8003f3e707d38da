export {
  KubernetesApiClient,
  FIELD_MANAGER,
  type KubernetesApiTarget,
  type KubernetesObject,
  type KubernetesResponse,
} from './client.js';
export {
  ClusterApi,
  KUBERNETES_API_ADDRESS,
  defaultApiAddress,
  describeAbsence,
  type ApiAbsence,
  type KubernetesApiAddress,
} from './cluster-api.js';
export { KubernetesApiSteps } from './api-steps.js';
export { unavailableJobs, describeUnavailable, type UnavailableJob } from './job-report.js';
export { userRoleBinding, drainerClusterRole, drainerClusterRoleBinding, bindingName, DRAINER_USER } from './rbac.js';
export {
  SmokeTest,
  SMOKE_CHECKS,
  SMOKE_STATES,
  type SmokeCheck,
  type SmokeCheckName,
  type SmokeCheckState,
  type SmokeTestReport,
} from './smoke-test.js';
