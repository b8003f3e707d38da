import { EXIT } from '../errors.js';
import { mergeKubeconfigFile, type KubeconfigDoc } from '../kubeconfig-merge.js';
import { printJson } from '../output/json.js';
import { kubeconfigPath } from '../paths.js';
import type { Command, CommandGroup } from '../registry.js';
import { withSession } from '../session.js';

const getCredentials: Command = {
  name: 'get-credentials',
  summary: 'Get a kubeconfig for a cluster and make it the current kubectl context',
  description: [
    "Asks the API for a client certificate for you, signed by the cluster's CA (POST /v1/clusters/NAME/binds),",
    'and merges it into the first file of $KUBECONFIG, else ~/.kube/config, as kubectl does: clusters,',
    'users and contexts are merged by name (same name replaced, everything else kept), current-context is',
    'set to the cluster, and the file is written atomically with mode 0600.',
    'With --json the kubeconfig is printed instead and no file is touched.',
    'The certificate is new on every call and short-lived (kubernetes.user_certificate_days in slipway.yaml,',
    'default 7 days): run get-credentials again when it expires. The creator of a cluster is bound to',
    'cluster-admin when the cluster is created; nothing else is bound unless --bind asks for it.',
  ].join('\n'),
  args: [{ name: 'NAME', description: 'the cluster name', required: true }],
  flags: {
    user: {
      type: 'string',
      valueName: 'USER',
      description:
        'a kubeconfig for another Slipway user (clusters.admin only); their certificate, merged under their name',
    },
    bind: {
      type: 'string',
      valueName: 'CLUSTERROLE',
      description:
        "also bind this ClusterRole (cluster-admin, admin, edit, view) to that user through the cluster's API (clusters.admin only)",
    },
  },
  json: true,
  examples: [
    'slipway get-credentials dev && kubectl get nodes',
    'slipway get-credentials dev --user alice --bind view --json > alice.kubeconfig',
  ],
  async run({ io, args, flags }) {
    const name = args.NAME!;
    const user = flags.string('user');
    const bind = flags.string('bind');
    const body = { ...(user !== undefined ? { user } : {}), ...(bind !== undefined ? { bind } : {}) };
    const doc = await withSession(io, ({ client }) =>
      client.post<KubeconfigDoc>(`/v1/clusters/${encodeURIComponent(name)}/binds`, body),
    );
    if (flags.bool('json')) {
      printJson(io.stdout, doc);
      return EXIT.ok;
    }
    const context = doc['current-context'] ?? doc.contexts[0]?.name ?? name;
    const path = kubeconfigPath(io);
    io.stdout.write(`Fetching credentials for cluster ${name}.\n`);
    await mergeKubeconfigFile(path, doc, context);
    io.stdout.write(
      `Context set for cluster ${name} in ${path}.\n\nYou can now switch between clusters by using:\n$ kubectl config use-context <cluster-name>\n`,
    );
    return EXIT.ok;
  },
};

interface SmokeTestDoc {
  cluster: string;
  passed: boolean;
  checks: Array<{ name: string; state: 'passed' | 'failed' | 'not-checked'; detail: string }>;
}

const smokeTest: Command = {
  name: 'smoke-test',
  summary: "Check that a cluster works: its API, its nodes, DNS and a pod on every node (TKGI's smoke-test errand)",
  description: [
    "Runs four checks through the cluster's API with its admin certificate (POST /v1/clusters/NAME/smoke-test):",
    '  api    /readyz answers (the server verified against the cluster CA)',
    '  nodes  every VM of the cluster is a registered node, Ready',
    '  dns    the kube-dns Service has ready CoreDNS endpoints',
    '  pods   a pause pod pinned to each node reaches Running (then it is deleted)',
    'Each check prints passed, failed or not-checked with what it found. Where the cluster has no API (the',
    'kube-* binaries are missing on its VMs, or its plan says kubernetes.require_api: false) every check is',
    'not-checked and says why. Exit 0 only when every check passed.',
  ].join('\n'),
  args: [{ name: 'NAME', description: 'the cluster name', required: true }],
  json: true,
  examples: ['slipway smoke-test dev'],
  async run({ io, args, flags }) {
    const name = args.NAME!;
    const report = await withSession(io, ({ client }) =>
      client.post<SmokeTestDoc>(`/v1/clusters/${encodeURIComponent(name)}/smoke-test`),
    );
    if (flags.bool('json')) printJson(io.stdout, report);
    else {
      const width = Math.max(...report.checks.map((c) => c.name.length));
      for (const check of report.checks)
        io.stdout.write(`${check.name.padEnd(width)}  ${check.state.padEnd(11)}  ${check.detail}\n`);
      io.stdout.write(
        report.passed ? `\nCluster ${name} passed every check.\n` : `\nCluster ${name} did not pass every check.\n`,
      );
    }
    return report.passed ? EXIT.ok : EXIT.failed;
  },
};

export const kubeconfigCommands: CommandGroup = { title: 'Cluster access', commands: [getCredentials, smokeTest] };
