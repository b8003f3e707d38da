import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FakeContext } from './routes.js';
import type { FakeVm } from './state.js';

/** The IMDS versions the fake answers (a recent subset of what Azure lists as newest-versions). */
const IMDS_VERSIONS = [
  '2017-04-02',
  '2018-10-01',
  '2019-06-01',
  '2020-09-01',
  '2021-01-01',
  '2021-02-01',
  '2021-05-01',
  '2021-12-13',
  '2023-07-01',
];
const NEWEST = IMDS_VERSIONS.slice(-3).reverse();

/**
 * The Instance Metadata Service, one view per VM under `/vms/{name}` (the real service, at 169.254.169.254,
 * knows the VM by the NIC a request comes from, which a fake on 127.0.0.1 cannot). Plain http, as on Azure;
 * no token. It refuses what IMDS refuses: no `Metadata: true` header, a proxied request (X-Forwarded-For),
 * a missing or unknown api-version.
 */
export class FakeImds {
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(ctx: FakeContext): Promise<FakeImds> {
    const server = createServer((req, res) => {
      try {
        answer(ctx, req, res);
      } catch (error) {
        send(res, 500, { error: `Internal error in the fake IMDS: ${(error as Error).message}` });
      }
    });
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    return new FakeImds(server, `http://127.0.0.1:${port}`);
  }

  /** What a VM's guest sees as http://169.254.169.254. */
  urlOf(vmName: string): string {
    return `${this.url}/vms/${encodeURIComponent(vmName)}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

function answer(ctx: FakeContext, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://169.254.169.254');
  const match = /^\/vms\/([^/]+)(\/metadata\/.*)$/.exec(url.pathname);
  ctx.calls.set('IMDS', (ctx.calls.get('IMDS') ?? 0) + 1);
  if (!match) return send(res, 404, { error: 'Not found' });
  if (req.headers['x-forwarded-for'] !== undefined) {
    return send(res, 400, {
      error:
        'Bad request. Requests with an X-Forwarded-For header are refused: IMDS must not be reached through a proxy',
    });
  }
  if (String(req.headers.metadata ?? '').toLowerCase() !== 'true') {
    return send(res, 400, { error: 'Bad request. Required metadata header not specified' });
  }
  if (req.method !== 'GET') return send(res, 405, { error: 'Method not allowed' });
  const version = url.searchParams.get('api-version');
  if (!version) {
    return send(res, 400, {
      error:
        'Bad request. api-version was not specified in the request. For more information refer to aka.ms/azureimds',
      'newest-versions': NEWEST,
    });
  }
  if (!IMDS_VERSIONS.includes(version)) {
    return send(res, 400, {
      error:
        'Bad request. api-version is invalid or was not specified in the request. For more information refer to aka.ms/azureimds',
      'newest-versions': NEWEST,
    });
  }
  const vm = ctx.state.vms.get(decodeURIComponent(match[1]!).toLowerCase());
  // A VM that is gone or not running has no guest to ask.
  if (!vm || vm.provisioningState === 'Creating' || vm.powerState === 'deallocated')
    return send(res, 404, { error: 'Not found' });
  const document = instanceDocument(ctx, vm, version);
  const path = match[2]!.replace(/\/+$/, '');
  if (path === '/metadata/instance') return send(res, 200, document);
  const leafPath = /^\/metadata\/instance\/(.+)$/.exec(path)?.[1]?.split('/');
  let node: unknown = document;
  for (const segment of leafPath ?? ['-']) {
    node =
      node && typeof node === 'object'
        ? (node as Record<string, unknown>)[Array.isArray(node) ? Number(segment) : segment]
        : undefined;
  }
  if (node === undefined) return send(res, 404, { error: 'Not found' });
  const format = url.searchParams.get('format') ?? 'json';
  if (format === 'text') {
    if (node !== null && typeof node === 'object')
      return send(res, 400, { error: 'Bad request. Text format is only supported for leaf nodes' });
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(String(node));
    return;
  }
  send(res, 200, node);
}

/** The instance document: `compute` and `network`; customData stays empty, as IMDS has answered since 2021. */
function instanceDocument(ctx: FakeContext, vm: FakeVm, version: string): unknown {
  const { state } = ctx;
  const nic = vm.nics[0] ? state.nics.get(vm.nics[0].key) : undefined;
  const subnet = state.subnets.find((s) => s.id.toLowerCase() === nic?.subnetId.toLowerCase());
  const [subnetAddress, prefix] = (subnet?.addressPrefix ?? '0.0.0.0/0').split('/');
  return {
    compute: {
      azEnvironment: 'AzurePublicCloud',
      customData: '',
      location: vm.location,
      name: vm.name,
      osType: 'Linux',
      provider: 'Microsoft.Compute',
      resourceGroupName: state.resourceGroup,
      resourceId: state.vmId(vm.name),
      subscriptionId: state.subscriptionId,
      tags: Object.entries(vm.tags)
        .map(([k, v]) => `${k}:${v}`)
        .join(';'),
      tagsList: Object.entries(vm.tags).map(([name, value]) => ({ name, value })),
      // userData arrived with 2021-01-01.
      ...(version >= '2021-01-01' ? { userData: vm.userData ?? '' } : {}),
      vmId: vm.vmId,
      vmSize: vm.vmSize,
      zone: vm.zones?.[0] ?? '',
      osProfile: {
        adminUsername: vm.osProfile.adminUsername,
        computerName: vm.osProfile.computerName,
        disablePasswordAuthentication: 'true',
      },
      // IMDS prints numbers as strings.
      storageProfile: {
        dataDisks: vm.dataDisks.map((d) => {
          const disk = state.disks.get(d.diskKey);
          return {
            caching: d.caching,
            createOption: 'Attach',
            diskSizeGB: String(disk?.sizeGb ?? ''),
            lun: String(d.lun),
            managedDisk: { id: state.diskId(disk?.name ?? d.diskKey), storageAccountType: disk?.sku ?? '' },
            name: disk?.name ?? d.diskKey,
            vhd: { uri: '' },
            writeAcceleratorEnabled: 'false',
          };
        }),
      },
    },
    network: {
      interface: nic
        ? [
            {
              ipv4: {
                ipAddress: [{ privateIpAddress: nic.privateIp, publicIpAddress: '' }],
                subnet: [{ address: subnetAddress, prefix }],
              },
              ipv6: { ipAddress: [] },
              macAddress: nic.macAddress.replace(/-/g, ''),
            },
          ]
        : [],
    },
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
