import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { SESSION_COOKIE } from '../src/session.js';
import type { FakeContext, MethodHandler } from './context.js';
import { faultResponse, readRequest, response } from './envelope.js';
import { HttpFaultError, VimFaultError } from './faults.js';
import { collectorMethods } from './methods/collector.js';
import { fieldMethods } from './methods/fields.js';
import { fileMethods } from './methods/files.js';
import { searchMethods } from './methods/search.js';
import { sessionMethods } from './methods/session.js';
import { vmMethods } from './methods/vm.js';
import type { FakeTls } from './tls.js';
import { el, ref } from './xml-out.js';

const METHODS: Record<string, MethodHandler> = {
  ...sessionMethods,
  ...collectorMethods,
  ...searchMethods,
  ...vmMethods,
  ...fileMethods,
  ...fieldMethods,
};

/**
 * The fake vCenter's one HTTPS server on 127.0.0.1: the vim25 SOAP endpoint at /sdk, and each VM's guestinfo
 * at /guestinfo/{vm}/{key} (the stand-in for VMware Tools' backdoor channel, see src/metadata.ts).
 */
export class FakeVcenterServer {
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(ctx: FakeContext, tls: FakeTls, port = 0): Promise<FakeVcenterServer> {
    const server = createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
      void route(ctx, req, res);
    });
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const address = server.address() as AddressInfo;
    return new FakeVcenterServer(server, `https://127.0.0.1:${address.port}`);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

async function route(ctx: FakeContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://fake');
  try {
    if (url.pathname === '/sdk' && req.method === 'POST') {
      await soap(ctx, req, res);
      return;
    }
    const guestinfo = /^\/guestinfo\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (guestinfo && req.method === 'GET') {
      guestInfo(ctx, decodeURIComponent(guestinfo[1]!), decodeURIComponent(guestinfo[2]!), res);
      return;
    }
    send(res, 404, 'text/plain', 'Not Found');
  } catch (error) {
    if (!res.headersSent) send(res, 500, 'text/plain', `fake vCenter error: ${(error as Error).message}`);
    else res.destroy();
  } finally {
    if (!req.readableEnded) req.resume();
  }
}

async function soap(ctx: FakeContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const text = await readBody(req);
  if (ctx.faults.latencyMs > 0) await delay(ctx.faults.latencyMs);
  const action = req.headers.soapaction;
  if (typeof action === 'string') ctx.apiVersions.add(action.replace(/^"|"$/g, ''));
  let method = 'unknown';
  try {
    const request = readRequest(text);
    method = request.method;
    ctx.calls.set(method, (ctx.calls.get(method) ?? 0) + 1);
    const injected = ctx.faults.take(method);
    if (injected) throw injected;
    const handler = METHODS[method];
    if (!handler) throw new VimFaultError('InvalidRequest', `Unable to resolve WSDL method name ${method}`);
    const session = handler.anonymous ? undefined : authenticate(ctx, req, request.self);
    const reply = await handler.handle(ctx, { request, ...(session ? { session } : {}) });
    send(res, 200, 'text/xml; charset=utf-8', response(method, reply.body), reply.headers);
  } catch (error) {
    if (error instanceof HttpFaultError) {
      send(
        res,
        error.status,
        'text/html',
        `<HTML><BODY><H1>${error.status}</H1>${error.message}</BODY></HTML>`,
        error.headers,
      );
      return;
    }
    const fault =
      error instanceof VimFaultError
        ? error
        : new VimFaultError(
            'SystemError',
            `A general system error occurred: ${(error as Error)?.message ?? String(error)}`,
          );
    send(res, 500, 'text/xml; charset=utf-8', faultResponse(fault));
  }
}

/** The session of the request's cookie; a missing, unknown or idle-expired one is NotAuthenticated. */
function authenticate(ctx: FakeContext, req: IncomingMessage, object: { type: string; value: string }) {
  const cookie = req.headers.cookie ?? '';
  const key = new RegExp(`${SESSION_COOKIE}="?([^";]+)"?`).exec(cookie)?.[1];
  const session = key ? ctx.inventory.sessions.get(key) : undefined;
  const now = Date.now();
  if (session && now - session.lastActive > ctx.timings.sessionIdleMs) ctx.inventory.sessions.delete(session.key);
  if (!session || !ctx.inventory.sessions.has(session.key)) {
    throw new VimFaultError(
      'NotAuthenticated',
      'The session is not authenticated.',
      ref('object', object) + el('privilegeId', 'System.View'),
    );
  }
  session.lastActive = now;
  return session;
}

/** What `vmtoolsd --cmd "info-get KEY"` gives inside the VM: guestinfo.* values of a running VM's extraConfig. */
function guestInfo(ctx: FakeContext, vmRef: string, key: string, res: ServerResponse): void {
  const vm = ctx.inventory.objects.get(vmRef);
  if (vm?.kind !== 'VirtualMachine') {
    send(res, 404, 'text/plain', `no VM ${vmRef}`);
    return;
  }
  if (vm.powerState !== 'poweredOn') {
    send(res, 409, 'text/plain', `VM ${vm.name} is ${vm.powerState}: VMware Tools answers only inside a running guest`);
    return;
  }
  const value = key.startsWith('guestinfo.') ? vm.extraConfig.get(key) : undefined;
  if (value === undefined) {
    send(res, 404, 'text/plain', 'No value found');
    return;
  }
  send(res, 200, 'text/plain; charset=utf-8', value);
}

function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { ...headers, 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function readBody(req: IncomingMessage, limit = 8 << 20): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
