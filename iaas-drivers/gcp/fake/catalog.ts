import { notFound } from './http.js';
import { requireZone } from './instances.js';
import { listReply } from './lists.js';
import { link, type FakeContext, type Route } from './routes.js';
import { MACHINE_TYPES, type FakeMachineType } from './state.js';

/** Zones and machine types: what `info()` and machine-type selection read. */
export function catalogRoutes(ctx: FakeContext): Route[] {
  const zoneIds = new Map(ctx.state.zones.map((zone, index) => [zone, String(2000 + index)]));
  const zoneView = (zone: string) => ({
    kind: 'compute#zone',
    id: zoneIds.get(zone),
    creationTimestamp: '1969-12-31T16:00:00.000-08:00',
    name: zone,
    description: zone,
    status: 'UP',
    region: link(ctx, `regions/${ctx.state.region(zone)}`),
    selfLink: link(ctx, `zones/${zone}`),
    availableCpuPlatforms: ['Intel Broadwell', 'Intel Cascade Lake', 'AMD Milan'],
    supportsPzs: false,
  });
  const machineView = (zone: string, type: FakeMachineType, index: number) => ({
    kind: 'compute#machineType',
    id: String(1000 + index),
    creationTimestamp: '1969-12-31T16:00:00.000-08:00',
    name: type.name,
    description: `${type.guestCpus} vCPU${type.guestCpus > 1 ? 's' : ''}, ${type.memoryMb / 1024} GB RAM`,
    guestCpus: type.guestCpus,
    memoryMb: type.memoryMb,
    maximumPersistentDisks: 128,
    maximumPersistentDisksSizeGb: '263168',
    zone,
    selfLink: link(ctx, `zones/${zone}/machineTypes/${type.name}`),
    isSharedCpu: type.isSharedCpu,
  });
  return [
    {
      http: 'GET',
      path: /^\/zones$/,
      method: 'zones.list',
      handle: (call) => ({
        status: 200,
        body: listReply(
          'compute#zoneList',
          `projects/${ctx.state.project}/zones`,
          link(ctx, 'zones'),
          ctx.state.zones.map(zoneView),
          call.query,
        ),
      }),
    },
    {
      http: 'GET',
      path: /^\/zones\/([^/]+)$/,
      method: 'zones.get',
      handle: (call) => ({ status: 200, body: zoneView(requireZone(ctx, call.params[0]!)) }),
    },
    {
      http: 'GET',
      path: /^\/zones\/([^/]+)\/machineTypes$/,
      method: 'machineTypes.list',
      handle: (call) => {
        const zone = requireZone(ctx, call.params[0]!);
        return {
          status: 200,
          body: listReply(
            'compute#machineTypeList',
            `projects/${ctx.state.project}/zones/${zone}/machineTypes`,
            link(ctx, `zones/${zone}/machineTypes`),
            MACHINE_TYPES.map((t, i) => machineView(zone, t, i)),
            call.query,
          ),
        };
      },
    },
    {
      http: 'GET',
      path: /^\/zones\/([^/]+)\/machineTypes\/([^/]+)$/,
      method: 'machineTypes.get',
      handle: (call) => {
        const zone = requireZone(ctx, call.params[0]!);
        const index = MACHINE_TYPES.findIndex((t) => t.name === call.params[1]);
        if (index < 0) throw notFound(`projects/${ctx.state.project}/zones/${zone}/machineTypes/${call.params[1]}`);
        return { status: 200, body: machineView(zone, MACHINE_TYPES[index]!, index) };
      },
    },
  ];
}
