import type { PlanDoc } from '../api-types.js';
import { EXIT } from '../errors.js';
import { printJson } from '../output/json.js';
import { table } from '../output/table.js';
import type { Command, CommandGroup } from '../registry.js';
import { withSession } from '../session.js';

const plans: Command = {
  name: 'plans',
  summary: 'List the plans clusters are created from',
  json: true,
  async run({ io, flags }) {
    const list = await withSession(io, ({ client }) => client.get<PlanDoc[]>('/v1/plans'));
    if (flags.bool('json')) {
      printJson(io.stdout, list);
      return EXIT.ok;
    }
    if (!list.length) {
      io.stdout.write('No plans are configured; add some under plans: in slipway.yaml.\n');
      return EXIT.ok;
    }
    io.stdout.write(
      table(
        ['Name', 'ID', 'Description', 'Masters', 'Workers', 'Max Workers', 'K8s Version', 'IaaS'],
        list.map((p) => [
          p.name,
          p.id,
          p.description,
          p.master_instances,
          p.worker_instances,
          p.max_worker_instances,
          p.kubernetes_version,
          p.iaas,
        ]),
      ),
    );
    return EXIT.ok;
  },
};

export const planCommands: CommandGroup = { title: 'Plans', commands: [plans] };
