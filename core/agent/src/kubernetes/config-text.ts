/**
 * Kubernetes config files (kubeconfigs, KubeletConfiguration, KubeProxyConfiguration, manifests) are YAML,
 * and YAML is a superset of JSON: writing JSON keeps the agent free of a YAML library.
 */
export function configText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
