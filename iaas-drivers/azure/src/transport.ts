import { Agent, request } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { SlipwayError } from '@slipway/contracts';
import { createSecureContext, rootCertificates } from 'node:tls';

/** A response read to the end. */
export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

export interface HttpRequest {
  method: 'GET' | 'PUT' | 'PATCH' | 'POST' | 'DELETE';
  url: URL;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/**
 * HTTPS with keep-alive and an optional extra CA. Node's global fetch cannot be given a CA without the
 * `undici` package (its Agent is not exported by Node 20), and NODE_EXTRA_CA_CERTS is read only at process
 * start, so the driver speaks through node:https with its own Agent. Plain http is refused: ARM and Entra
 * answer only over TLS and a bearer token must never travel in clear.
 */
export class HttpsTransport {
  private readonly agent: Agent;

  /** `caPem`: trusted in addition to the system roots (Azure Stack Hub's private CA, a fake's CA). */
  constructor(caPem?: string) {
    this.agent = new Agent({
      keepAlive: true,
      // Some 50 calls run at once during a rollout; more sockets than that only add TLS handshakes.
      maxSockets: 64,
      // Built once: given `ca` instead, Node parses the ~140 system roots again for every new connection.
      ...(caPem ? { secureContext: createSecureContext({ ca: [...rootCertificates, caPem] }) } : {}),
    });
  }

  send(req: HttpRequest): Promise<HttpResponse> {
    if (req.url.protocol !== 'https:') {
      return Promise.reject(
        new SlipwayError(
          'InvalidConfig',
          `refusing ${req.url.protocol} for ${req.url.origin}: Azure endpoints are https only, and a bearer token must not travel in clear`,
          {
            plugin: '@slipway/iaas-azure',
            field: 'resource_manager_url',
          },
        ),
      );
    }
    return new Promise<HttpResponse>((resolve, reject) => {
      const headers: Record<string, string | number> = { ...req.headers };
      if (req.body !== undefined) headers['content-length'] = Buffer.byteLength(req.body);
      const outgoing = request(
        req.url,
        { method: req.method, headers, agent: this.agent, signal: req.signal },
        (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
          incoming.on('error', reject);
          incoming.on('aborted', () => reject(new Error('the connection closed before the response was complete')));
          incoming.on('end', () =>
            resolve({
              status: incoming.statusCode ?? 0,
              headers: incoming.headers,
              text: Buffer.concat(chunks).toString('utf8'),
            }),
          );
        },
      );
      outgoing.on('error', reject);
      outgoing.end(req.body);
    });
  }

  /** Closes idle keep-alive sockets. */
  destroy(): void {
    this.agent.destroy();
  }
}

/** A header's value as one string (Node gives arrays for repeated headers). */
export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
