import type { JobDefinition } from '../job-definition.js';
import { kubeconfig } from '../kubeconfig.js';
import { caFile, tlsFiles } from '../tls-files.js';

export const kubeSchedulerJob: JobDefinition = {
  name: 'kube-scheduler',
  render(context) {
    const { cluster, node } = context;
    const client = tlsFiles(context, 'kube-scheduler');
    const ca = caFile(context, 'kubernetes-ca');
    const config = context.file('kubeconfig');
    return {
      files: [
        ...client.files,
        ca.file,
        {
          path: config,
          mode: 0o600,
          content: kubeconfig({
            cluster: cluster.name,
            server: `https://${node.ip}:${cluster.apiPort}`,
            caFile: ca.path,
            certFile: client.paths.cert,
            keyFile: client.paths.key,
            user: 'system:kube-scheduler',
          }),
        },
      ],
      processes: [
        {
          name: 'kube-scheduler',
          binary: 'kube-scheduler',
          args: [
            `--kubeconfig=${config}`,
            `--authentication-kubeconfig=${config}`,
            `--authorization-kubeconfig=${config}`,
            `--bind-address=${node.ip}`,
            '--leader-elect=true',
            '--profiling=false',
          ],
          health: { kind: 'http', url: `https://${node.ip}:10259/healthz`, insecure: true },
        },
      ],
    };
  },
};
