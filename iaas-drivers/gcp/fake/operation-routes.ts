import { notFound } from './http.js';
import type { FakeOperation } from './operations.js';
import { listReply } from './lists.js';
import { link, type FakeContext, type Reply, type Route, type RouteCall } from './routes.js';

/** An Operation as the answer of the request that started it. */
export function operationReply(ctx: FakeContext, operation: FakeOperation): Reply {
  return { status: 200, body: ctx.operations.view(operation, ctx.baseUrl, ctx.state.project) };
}

/** zoneOperations (list, get, wait) and globalOperations (get, wait); a wait is held until DONE or the wait timeout. */
export function operationRoutes(ctx: FakeContext): Route[] {
  const find = (call: RouteCall, zone: string | undefined): FakeOperation => {
    const name = call.params[zone === undefined ? 0 : 1]!;
    const operation = ctx.operations.all.get(name);
    if (!operation || operation.zone !== zone) {
      throw notFound(`projects/${ctx.state.project}/${zone ? `zones/${zone}` : 'global'}/operations/${name}`);
    }
    return operation;
  };
  const wait = async (operation: FakeOperation): Promise<Reply> => {
    await ctx.operations.waitDone(operation, ctx.timings.waitTimeoutMs);
    return operationReply(ctx, operation);
  };
  return [
    {
      http: 'GET',
      path: /^\/zones\/([^/]+)\/operations$/,
      method: 'zoneOperations.list',
      handle: (call) => {
        const zone = call.params[0]!;
        if (!ctx.state.zones.includes(zone)) throw notFound(`projects/${ctx.state.project}/zones/${zone}`);
        const views = [...ctx.operations.all.values()]
          .filter((o) => o.zone === zone)
          .map((o) => ctx.operations.view(o, ctx.baseUrl, ctx.state.project));
        return {
          status: 200,
          body: listReply(
            'compute#operationList',
            `projects/${ctx.state.project}/zones/${zone}/operations`,
            link(ctx, `zones/${zone}/operations`),
            views,
            call.query,
          ),
        };
      },
    },
    {
      http: 'GET',
      path: /^\/zones\/([^/]+)\/operations\/([^/]+)$/,
      method: 'zoneOperations.get',
      handle: (call) => operationReply(ctx, find(call, call.params[0])),
    },
    {
      http: 'POST',
      path: /^\/zones\/([^/]+)\/operations\/([^/]+)\/wait$/,
      method: 'zoneOperations.wait',
      handle: (call) => wait(find(call, call.params[0])),
    },
    {
      http: 'GET',
      path: /^\/global\/operations\/([^/]+)$/,
      method: 'globalOperations.get',
      handle: (call) => operationReply(ctx, find(call, undefined)),
    },
    {
      http: 'POST',
      path: /^\/global\/operations\/([^/]+)\/wait$/,
      method: 'globalOperations.wait',
      handle: (call) => wait(find(call, undefined)),
    },
  ];
}
