import { configText } from './config-text.js';

/** A kubeconfig for one client certificate, with the files referenced by path (kubeadm embeds them; paths let an operator see what is where). */
export function kubeconfig(input: {
  cluster: string;
  server: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  user: string;
}): string {
  return configText({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: input.cluster, cluster: { server: input.server, 'certificate-authority': input.caFile } }],
    users: [{ name: input.user, user: { 'client-certificate': input.certFile, 'client-key': input.keyFile } }],
    contexts: [{ name: `${input.user}@${input.cluster}`, context: { cluster: input.cluster, user: input.user } }],
    'current-context': `${input.user}@${input.cluster}`,
  });
}
