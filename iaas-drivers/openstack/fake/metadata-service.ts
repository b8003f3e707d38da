import { FakeHttpError } from './http.js';
import type { FakeContext, ServiceMount } from './routes.js';

/**
 * Nova's metadata service, one view per server under /metadata/{server_id} (the real service tells guests
 * apart by their source address, which a fake on 127.0.0.1 cannot). No token, as on a real guest.
 */
export function metadataMount(ctx: FakeContext): ServiceMount {
  const serverOr404 = (id: string) => {
    const server = ctx.state.servers.get(id);
    if (!server || server.status === 'DELETED') throw new FakeHttpError(404, 'The resource could not be found.');
    return server;
  };
  return {
    service: 'metadata',
    prefix: /^\/metadata\/([^/]+)/,
    routes: [
      {
        method: 'GET',
        path: /^\/openstack\/?$/,
        operation: 'metadataVersions',
        anonymous: true,
        handle: (call) => {
          serverOr404(call.params[0]!);
          return {
            status: 200,
            text: [
              '2012-08-10',
              '2013-04-04',
              '2013-10-17',
              '2015-10-15',
              '2016-06-30',
              '2016-10-06',
              '2017-02-22',
              '2018-08-27',
              '2020-10-14',
              'latest',
            ].join('\n'),
            contentType: 'text/plain; charset=UTF-8',
          };
        },
      },
      {
        method: 'GET',
        path: /^\/openstack\/[^/]+\/user_data$/,
        operation: 'metadataUserData',
        anonymous: true,
        handle: (call) => {
          const server = serverOr404(call.params[0]!);
          if (!server.userData) throw new FakeHttpError(404, 'The resource could not be found.');
          return {
            status: 200,
            text: Buffer.from(server.userData, 'base64').toString('utf8'),
            contentType: 'application/octet-stream',
          };
        },
      },
      {
        method: 'GET',
        path: /^\/openstack\/[^/]+\/meta_data\.json$/,
        operation: 'metadataMetaData',
        anonymous: true,
        handle: (call) => {
          const server = serverOr404(call.params[0]!);
          return {
            status: 200,
            body: {
              uuid: server.id,
              meta: server.metadata,
              hostname: server.name,
              name: server.name,
              launch_index: 0,
              availability_zone: server.zone,
              project_id: ctx.state.project.id,
              devices: [],
              ...(server.keyName
                ? { public_keys: { [server.keyName]: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI slipway-fake' }, keys: [] }
                : {}),
            },
          };
        },
      },
    ],
  };
}
