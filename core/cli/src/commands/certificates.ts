import type { CliIo } from '../io.js';
import { EXIT } from '../errors.js';
import { printJson } from '../output/json.js';
import { table } from '../output/table.js';
import type { Command, CommandGroup } from '../registry.js';
import { withSession } from '../session.js';

/** One certificate as GET /v1/clusters/{name}/certificates returns it. */
interface CertificateDoc {
  name: string;
  kind: 'ca' | 'leaf' | 'user' | 'agent';
  common_name: string;
  alt_names: string[];
  signed_by: string | null;
  serial: string;
  not_before: string;
  not_after: string;
  days_left: number;
  transitional: boolean;
}

interface ClusterCertificatesDoc {
  cluster: string;
  checked_at: string;
  certificates: CertificateDoc[];
}

/** CN, then up to two SANs and how many more: enough to tell certificates apart in a table. */
function subjectSummary(c: CertificateDoc): string {
  const sans = c.alt_names.filter((n) => n !== c.common_name);
  const shown = sans.slice(0, 2).join(', ');
  return [c.common_name || '-', shown ? `(${shown}${sans.length > 2 ? `, +${sans.length - 2}` : ''})` : '']
    .filter(Boolean)
    .join(' ');
}

function printCertificates(io: CliIo, doc: ClusterCertificatesDoc, days: number | undefined): void {
  if (!doc.certificates.length) {
    io.stdout.write(
      days === undefined
        ? `Cluster ${doc.cluster} has no certificates yet.\n`
        : `No certificate of cluster ${doc.cluster} expires within ${days} days.\n`,
    );
    return;
  }
  io.stdout.write(
    table(
      ['Name', 'Kind', 'Subject', 'Not After', 'Days Left'],
      doc.certificates.map((c) => [
        `${c.name}${c.transitional ? ' (transitional)' : ''}`,
        c.kind,
        subjectSummary(c),
        c.not_after.replace(/\.\d{3}Z$/, 'Z'),
        c.days_left < 0 ? `expired ${-c.days_left}d ago` : String(c.days_left),
      ]),
    ),
  );
  const soon = doc.certificates.filter((c) => c.days_left <= 30 && c.kind !== 'agent');
  if (soon.length) {
    io.stdout.write(
      `\n${soon.length} certificate(s) expire within 30 days. Slipway renews them on its own (certificates.renew_before_days);` +
        ` to renew now: slipway rotate-certificates ${doc.cluster} --leaf-only, then slipway get-credentials ${doc.cluster}\n`,
    );
  }
}

const certificates: Command = {
  name: 'certificates',
  summary: 'List every certificate of a cluster with its expiry',
  description: [
    "Each certificate in use: its name under the cluster's credential path, what renews it (ca: a CA rotation,",
    'leaf and user: a leaf rotation, agent: the node agent), its subject and SANs, when it expires and how many',
    'days are left, soonest first. --days N shows only those expiring within N days.',
  ].join('\n'),
  args: [{ name: 'NAME', description: 'the cluster name', required: true }],
  flags: {
    days: {
      type: 'string',
      short: 'd',
      valueName: 'N',
      description: 'only certificates expiring within this many days',
    },
  },
  json: true,
  examples: ['slipway certificates prod', 'slipway certificates prod --days 30', 'slipway certificates prod --json'],
  async run({ io, args, flags }) {
    const days = flags.int('days', { min: 0 });
    const query = days === undefined ? '' : `?days=${days}`;
    const path = `/v1/clusters/${encodeURIComponent(args.NAME!)}/certificates${query}`;
    const doc = await withSession(io, ({ client }) => client.get<ClusterCertificatesDoc>(path));
    if (flags.bool('json')) printJson(io.stdout, doc);
    else printCertificates(io, doc, days);
    return EXIT.ok;
  },
};

export const certificateCommands: CommandGroup = { title: 'Certificates', commands: [certificates] };
