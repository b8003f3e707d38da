import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import type { ActionHandler, FakeContext } from './context.js';
import { Ec2Error } from './errors.js';
import { FakeInstanceMetadataService } from './imds.js';
import { QueryArgs } from './query.js';
import { verifySigV4, type FakeAccessKey } from './sigv4.js';
import { errorXml, responseXml } from './xml.js';

/** The only API version the fake speaks, as every current SDK does. */
export const EC2_API_VERSION = '2016-11-15';

/** Largest request body EC2 accepts through POST. */
const MAX_BODY = 1 << 20;

/** The fake's one HTTP server on 127.0.0.1: the EC2 Query API at `/`, IMDS under `/imds/{instance id}`. */
export class FakeEc2Server {
  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly imds: FakeInstanceMetadataService,
  ) {}

  static async start(
    ctx: FakeContext,
    actions: Record<string, ActionHandler>,
    key: FakeAccessKey,
    port = 0,
  ): Promise<FakeEc2Server> {
    const imds = new FakeInstanceMetadataService(ctx);
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      if (path.startsWith('/imds/')) {
        imds.handle(req, res, path.slice('/imds/'.length));
        req.resume();
        return;
      }
      void dispatch(ctx, actions, key, req, res);
    });
    server.keepAliveTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const { port: bound } = server.address() as AddressInfo;
    return new FakeEc2Server(server, `http://127.0.0.1:${bound}`, imds);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

async function dispatch(
  ctx: FakeContext,
  actions: Record<string, ActionHandler>,
  key: FakeAccessKey,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const requestId = randomUUID();
  try {
    const body = await readBody(req);
    if (ctx.faults.latencyMs > 0) await delay(ctx.faults.latencyMs);
    const url = new URL(req.url ?? '/', 'http://fake');
    verifySigV4(
      { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body },
      key,
      ctx.state.region,
    );
    const params = new URLSearchParams(url.searchParams);
    if (req.method === 'POST') {
      const type = req.headers['content-type'] ?? '';
      if (!type.startsWith('application/x-www-form-urlencoded'))
        throw new Ec2Error('InvalidParameterValue', `Unsupported content type: ${type}`);
      for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params.append(k, v);
    } else if (req.method !== 'GET') {
      throw new Ec2Error('InvalidHttpRequest', `The requested HTTP method ${req.method} is not supported`, 405);
    }
    const action = params.get('Action');
    if (!action) throw new Ec2Error('MissingAction', 'The request must contain the parameter Action');
    const version = params.get('Version');
    if (!version) throw new Ec2Error('MissingParameter', 'The request must contain the parameter Version');
    if (version !== EC2_API_VERSION)
      throw new Ec2Error('NoSuchVersion', `The requested version (${version}) of service AmazonEC2 does not exist`);
    ctx.calls.set(action, (ctx.calls.get(action) ?? 0) + 1);
    const handler = actions[action];
    if (!handler) throw new Ec2Error('InvalidAction', `The action ${action} is not valid for this web service.`);
    const fault = ctx.faults.take(action);
    if (fault?.when === 'before') throw fault.error;
    const answer = await handler(new QueryArgs(params), ctx);
    if (fault) throw fault.error;
    send(res, 200, responseXml(action, requestId, answer), requestId);
  } catch (error) {
    const known =
      error instanceof Ec2Error
        ? error
        : new Ec2Error(
            'InternalError',
            `An internal error has occurred (fake: ${(error as Error)?.message ?? String(error)})`,
            500,
          );
    if (res.headersSent) {
      res.destroy();
      return;
    }
    send(res, known.status, errorXml(known.code, known.message, requestId), requestId);
  }
}

function send(res: ServerResponse, status: number, xml: string, requestId: string): void {
  res.writeHead(status, {
    'content-type': 'text/xml;charset=UTF-8',
    'content-length': Buffer.byteLength(xml),
    'x-amzn-requestid': requestId,
    server: 'AmazonEC2',
  });
  res.end(xml);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Ec2Error('InvalidParameterValue', 'The request body is too large.', 413);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
