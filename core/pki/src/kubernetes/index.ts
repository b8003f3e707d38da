export {
  kubernetesPkiLayout,
  userCertificateParameters,
  nodeCredentialNames,
  mastersOf,
  apiServerNames,
  KUBERNETES_CAS,
  DEFAULT_SERVICE_IP,
  DEFAULT_CLUSTER_DOMAIN,
  type KubernetesCa,
  type ClientKeyAlgorithm,
  type KubernetesNode,
  type KubernetesPkiInput,
  type PkiEntry,
} from './layout.js';
export {
  issueKubernetesPki,
  issueKubernetesUserCertificate,
  removeKubernetesNodeCredentials,
  clientKeysOf,
  type UserCertificateOptions,
} from './issue.js';
export {
  rotateKubernetesCa,
  rotateKubernetesLeaves,
  kubernetesTrustBundle,
  CA_ROTATION_PHASES,
  type CaRotationPhase,
  type CaRotationResult,
} from './rotation.js';
