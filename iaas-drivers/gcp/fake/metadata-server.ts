import type { IncomingMessage, ServerResponse } from 'node:http';
import { googleErrorPage, sendText } from './http.js';
import type { FakeContext } from './routes.js';
import type { FakeInstance } from './state.js';

const HEADERS = {
  'metadata-flavor': 'Google',
  server: 'Metadata Server for VM',
  'x-xss-protection': '0',
  'x-frame-options': 'SAMEORIGIN',
};

/**
 * The GCE metadata server, one view per instance under /metadata/{instanceId} (the real one knows the guest
 * by its network, which a fake on 127.0.0.1 cannot). As on GCE it refuses requests without
 * `Metadata-Flavor: Google` and requests that carry `X-Forwarded-For`, and marks its answers with
 * `Metadata-Flavor: Google`.
 */
export function serveMetadata(
  ctx: FakeContext,
  req: IncomingMessage,
  res: ServerResponse,
  instanceId: string,
  path: string,
): void {
  const instance = [...ctx.state.instances.values()].find((i) => i.id === instanceId);
  const html = { ...HEADERS, 'content-type': 'text/html; charset=UTF-8' };
  if (req.method !== 'GET') {
    sendText(
      res,
      405,
      googleErrorPage(
        405,
        `The request method <code>${req.method}</code> is inappropriate for the URL <code>${path}</code>.`,
      ),
      html,
    );
    return;
  }
  if (req.headers['x-forwarded-for'] !== undefined) {
    sendText(
      res,
      403,
      googleErrorPage(
        403,
        `Your client does not have permission to get URL <code>${path}</code> from this server. Request had a X-Forwarded-For header and was rejected.`,
      ),
      html,
    );
    return;
  }
  if (req.headers['metadata-flavor'] !== 'Google') {
    sendText(
      res,
      403,
      googleErrorPage(
        403,
        `Your client does not have permission to get URL <code>${path}</code> from this server. Missing Metadata-Flavor:Google header.`,
      ),
      html,
    );
    return;
  }
  const value = instance && !instance.deleting ? lookup(ctx, instance, path) : undefined;
  if (value === undefined) {
    sendText(
      res,
      404,
      googleErrorPage(404, `The requested URL <code>${path}</code> was not found on this server.`),
      html,
    );
    return;
  }
  sendText(res, 200, value, {
    ...HEADERS,
    'content-type': 'application/text',
    etag: Buffer.from(value).toString('base64url').slice(0, 16),
  });
}

function lookup(ctx: FakeContext, instance: FakeInstance, path: string): string | undefined {
  const attribute = /^\/computeMetadata\/v1\/instance\/attributes\/([^/]+)$/.exec(path);
  if (attribute) return instance.metadataItems.find((i) => i.key === decodeURIComponent(attribute[1]!))?.value;
  switch (path) {
    case '/computeMetadata/v1/instance/attributes/':
      return instance.metadataItems.map((i) => i.key).join('\n') + (instance.metadataItems.length ? '\n' : '');
    case '/computeMetadata/v1/instance/id':
      return instance.id;
    case '/computeMetadata/v1/instance/name':
      return instance.name;
    case '/computeMetadata/v1/instance/hostname':
      return `${instance.name}.${instance.zone}.c.${ctx.state.project}.internal`;
    case '/computeMetadata/v1/instance/zone':
      return `projects/${ctx.state.projectNumber}/zones/${instance.zone}`;
    case '/computeMetadata/v1/instance/machine-type':
      return `projects/${ctx.state.projectNumber}/machineTypes/${instance.machineType}`;
    case '/computeMetadata/v1/instance/network-interfaces/0/ip':
      return instance.networkIP;
    case '/computeMetadata/v1/project/project-id':
      return ctx.state.project;
    case '/computeMetadata/v1/project/numeric-project-id':
      return ctx.state.projectNumber;
    default:
      return undefined;
  }
}
