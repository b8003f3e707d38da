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
    'Asks the API for a client certificate for you, signed by the cluster\'s CA (POST /v1/clusters/NAME/binds),',
    'and merges it into the first file of $KUBECONFIG, else ~/.kube/config, as kubectl does: clusters,',
    'users and contexts are merged by name (same name replaced, everything else kept), current-context is',
    'set to the cluster, and the file is written atomically with mode 0600.',
    'With --json the kubeconfig is printed instead and no file is touched.',
  ].join('\n'),
  args: [{ name: 'NAME', description: 'the cluster name', required: true }],
  json: true,
  examples: ['slipway get-credentials dev && kubectl get nodes'],
  async run({ io, args, flags }) {
    const name = args.NAME!;
    const doc = await withSession(io, ({ client }) => client.post<KubeconfigDoc>(`/v1/clusters/${encodeURIComponent(name)}/binds`));
    if (flags.bool('json')) {
      printJson(io.stdout, doc);
      return EXIT.ok;
    }
    const context = doc['current-context'] ?? doc.contexts[0]?.name ?? name;
    const path = kubeconfigPath(io);
    io.stdout.write(`Fetching credentials for cluster ${name}.\n`);
    await mergeKubeconfigFile(path, doc, context);
    io.stdout.write(`Context set for cluster ${name} in ${path}.\n\nYou can now switch between clusters by using:\n$ kubectl config use-context <cluster-name>\n`);
    return EXIT.ok;
  },
};

export const kubeconfigCommands: CommandGroup = { title: 'Cluster access', commands: [getCredentials] };
