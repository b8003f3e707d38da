import type { InventoryDoc } from '../api-types.js';
import { EXIT } from '../errors.js';
import { printJson } from '../output/json.js';
import { table } from '../output/table.js';
import type { Command, CommandGroup, FlagSpec } from '../registry.js';
import { withSession } from '../session.js';

const IAAS_FLAG: FlagSpec = {
  type: 'string',
  valueName: 'NAME',
  description: 'the IaaS target (default "sandbox"); it must be a simulated cloud',
};
const enc = encodeURIComponent;
const target = (iaas: string | undefined) => enc(iaas ?? 'sandbox');

/** One rehearsal verb: a POST to /v1/sandbox/{iaas}/..., 204 on success. */
function rehearsal(
  name: string,
  summary: string,
  argName: string,
  path: (cid: string) => string,
  done: (cid: string, iaas: string) => string,
  description: string,
): Command {
  return {
    name: `sandbox ${name}`,
    summary,
    description,
    args: [
      {
        name: argName,
        description:
          argName === 'CID'
            ? 'the VM id in the cloud (slipway sandbox inventory, or slipway cluster NAME --details)'
            : 'the disk id in the cloud',
        required: true,
      },
    ],
    flags: { iaas: IAAS_FLAG },
    async run({ io, args, flags }) {
      const iaas = flags.string('iaas') ?? 'sandbox';
      await withSession(io, ({ client }) => client.post(`/v1/sandbox/${target(iaas)}/${path(enc(args[argName]!))}`));
      io.stdout.write(`${done(args[argName]!, iaas)}\n`);
      return EXIT.ok;
    },
  };
}

const killVm = rehearsal(
  'kill-vm',
  'Rehearse a VM death: the VM vanishes, its agent stops, its disks detach',
  'CID',
  (cid) => `vms/${cid}/kill`,
  (cid, iaas) => `VM ${cid} on ${iaas} is gone; watch the control plane notice: slipway cluster NAME --details`,
  'The simulated cloud deletes the VM as if its host died. Only simulated clouds offer this.',
);
const hangAgent = rehearsal(
  'hang-agent',
  'Rehearse an unresponsive agent: the VM stays, its agent stops answering',
  'CID',
  (cid) => `vms/${cid}/hang`,
  (cid, iaas) => `The agent of VM ${cid} on ${iaas} stopped answering; its heartbeats stop.`,
  'The VM keeps existing but its node agent stops heartbeating (BOSH: "unresponsive agent").',
);
const detachDisk = rehearsal(
  'detach-disk',
  "Rehearse a disk detaching behind the control plane's back",
  'CID',
  (cid) => `disks/${cid}/detach`,
  (cid, iaas) => `Disk ${cid} on ${iaas} is detached from its VM.`,
  'The persistent disk detaches from its VM without the control plane asking.',
);

const inventory: Command = {
  name: 'sandbox inventory',
  summary: 'Show what a simulated cloud holds: VMs and disks',
  flags: { iaas: IAAS_FLAG },
  json: true,
  async run({ io, flags }) {
    const doc = await withSession(io, ({ client }) =>
      client.get<InventoryDoc>(`/v1/sandbox/${target(flags.string('iaas'))}/inventory`),
    );
    if (flags.bool('json')) {
      printJson(io.stdout, doc);
      return EXIT.ok;
    }
    io.stdout.write('VMs:\n');
    io.stdout.write(
      doc.vms.length
        ? table(
            ['VM CID', 'State', 'Cluster', 'Instance'],
            doc.vms.map((v) => [v.vmId, v.state ?? '', v.metadata['slipway.cluster'], v.metadata['slipway.instance']]),
          )
        : 'No VMs.\n',
    );
    io.stdout.write('\nDisks:\n');
    io.stdout.write(
      doc.disks.length
        ? table(
            ['Disk CID', 'Size (MB)', 'Attached To', 'Cluster UUID'],
            doc.disks.map((d) => [d.diskId, d.sizeMb, d.vmId ?? '(detached)', d.metadata['slipway.cluster_uuid']]),
          )
        : 'No disks.\n',
    );
    return EXIT.ok;
  },
};

export const sandboxCommands: CommandGroup = {
  title: 'Failure rehearsal (simulated clouds only)',
  commands: [killVm, hangAgent, detachDisk, inventory],
};
