import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FakeContext } from './context.js';
import type { FakeInstance } from './state.js';

/** IMDS caps a session token's lifetime at six hours. */
const MAX_TTL_SECONDS = 21_600;

/**
 * The EC2 instance metadata service, one view per instance under /imds/{instance id} (the real one tells
 * instances apart by the link-local network they call from, which a fake on 127.0.0.1 cannot). IMDSv2 as on
 * EC2: a session token from `PUT /latest/api/token`, required on every GET when the instance was launched with
 * HttpTokens=required; IMDSv1 GETs work otherwise.
 */
export class FakeInstanceMetadataService {
  private readonly tokens = new Map<string, { instanceId: string; expiresAt: number }>();

  constructor(private readonly ctx: FakeContext) {}

  /** Every session token stops working, as after the instance was stopped and started. */
  revokeTokens(): void {
    this.tokens.clear();
  }

  /** `path` is what follows /imds/. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): void {
    const slash = path.indexOf('/');
    const instanceId = slash < 0 ? path : path.slice(0, slash);
    const rest = slash < 0 ? '/' : path.slice(slash);
    const key = `IMDS ${req.method} ${rest}`;
    this.ctx.calls.set(key, (this.ctx.calls.get(key) ?? 0) + 1);
    const instance = this.ctx.state.instances.get(instanceId);
    // Only a running instance has a metadata service to talk to.
    if (instance?.state !== 'running') return send(res, 404, 'Not Found');
    if (rest === '/latest/api/token') {
      if (req.method !== 'PUT') return send(res, 405, 'Method Not Allowed');
      // IMDS refuses token requests that went through a proxy, so a server-side request forgery cannot get one.
      if (req.headers['x-forwarded-for'] !== undefined) return send(res, 403, 'Forbidden');
      const ttl = Number(req.headers['x-aws-ec2-metadata-token-ttl-seconds']);
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TTL_SECONDS) return send(res, 400, 'Bad Request');
      const token = randomBytes(42).toString('base64url');
      this.tokens.set(token, { instanceId, expiresAt: Date.now() + ttl * 1000 });
      return send(res, 200, token, { 'x-aws-ec2-metadata-token-ttl-seconds': String(ttl) });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'Method Not Allowed');
    const given = req.headers['x-aws-ec2-metadata-token'];
    if (typeof given === 'string') {
      const token = this.tokens.get(given);
      if (!token || token.instanceId !== instanceId || token.expiresAt <= Date.now())
        return send(res, 401, 'Unauthorized');
    } else if (instance.httpTokens === 'required') {
      return send(res, 401, 'Unauthorized');
    }
    const body = this.read(instance, rest);
    if (body === undefined) return send(res, 404, 'Not Found');
    send(res, 200, body, {}, rest.startsWith('/latest/dynamic/') ? 'application/json' : 'text/plain');
  }

  private read(instance: FakeInstance, path: string): string | undefined {
    const { state } = this.ctx;
    switch (path) {
      case '/latest/user-data':
        return instance.userData === undefined ? undefined : Buffer.from(instance.userData, 'base64').toString('utf8');
      case '/latest/meta-data':
      case '/latest/meta-data/':
        return [
          'ami-id',
          'hostname',
          'instance-id',
          'instance-type',
          'local-hostname',
          'local-ipv4',
          'placement/',
          'security-groups',
        ].join('\n');
      case '/latest/meta-data/instance-id':
        return instance.id;
      case '/latest/meta-data/ami-id':
        return instance.imageId;
      case '/latest/meta-data/instance-type':
        return instance.instanceType;
      case '/latest/meta-data/local-ipv4':
        return instance.privateIp;
      case '/latest/meta-data/hostname':
      case '/latest/meta-data/local-hostname':
        return `ip-${instance.privateIp.replace(/\./g, '-')}.${state.region}.compute.internal`;
      case '/latest/meta-data/placement/availability-zone':
        return instance.zone;
      case '/latest/meta-data/placement/region':
        return state.region;
      case '/latest/meta-data/security-groups':
        return instance.securityGroupIds.map((id) => state.securityGroups.get(id)?.name ?? id).join('\n');
      case '/latest/dynamic/instance-identity/document':
        return JSON.stringify(
          {
            accountId: state.accountId,
            architecture: instance.architecture,
            availabilityZone: instance.zone,
            imageId: instance.imageId,
            instanceId: instance.id,
            instanceType: instance.instanceType,
            pendingTime: instance.launchTime,
            privateIp: instance.privateIp,
            region: state.region,
            version: '2017-09-30',
          },
          null,
          2,
        );
      default:
        return undefined;
    }
  }
}

function send(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
  contentType = 'text/plain',
): void {
  res.writeHead(status, {
    ...headers,
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    server: 'EC2ws',
  });
  res.end(text);
}
