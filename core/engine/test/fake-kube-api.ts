import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';

/** One request the fake API server received, with the subject of the client certificate it verified. */
export interface RecordedRequest {
  method: string;
  path: string;
  contentType: string | undefined;
  body: string;
  /** CN and O of the client certificate (node verified it against the cluster CA before the request ran). */
  user: string;
  groups: string[];
}

export interface FakeKubeApi {
  url: string;
  requests: RecordedRequest[];
  /** Which status /readyz answers (503 until the test says the API is up). */
  readyStatus: number;
  /** Answers of GET paths other than /readyz (JSON documents), e.g. `/api/v1/nodes`. */
  documents: Map<string, unknown>;
  /** TLS handshakes refused (no client certificate, or one the cluster CA did not sign). */
  refusedHandshakes: number;
  close(): Promise<void>;
}

/**
 * A stand-in for kube-apiserver's HTTPS front door, for the paths the control plane uses: a real TLS server
 * that serves the cluster's own kube-apiserver certificate and accepts only client certificates the cluster
 * CA signed (as --client-ca-file does), answering /readyz, server-side applies and GETs. kube-apiserver
 * itself cannot be installed on these machines; what this proves is the control plane's half: the address,
 * the certificates on both sides, and the requests it sends.
 */
export async function startFakeKubeApi(tls: {
  caPem: string;
  certificatePem: string;
  privateKeyPem: string;
}): Promise<FakeKubeApi> {
  const requests: RecordedRequest[] = [];
  const documents = new Map<string, unknown>();
  const state = { readyStatus: 503, refused: 0 };
  const server: Server = createServer(
    { ca: tls.caPem, cert: tls.certificatePem, key: tls.privateKeyPem, requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        const org = peer.subject?.O;
        const record: RecordedRequest = {
          // Decoded, as the API server's router sees it (`:` may arrive as %3A).
          method: req.method ?? '',
          path: decodeURIComponent(req.url ?? ''),
          contentType: req.headers['content-type'],
          body: Buffer.concat(chunks).toString('utf8'),
          user: String(peer.subject?.CN ?? ''),
          groups: org === undefined ? [] : Array.isArray(org) ? org : [org],
        };
        requests.push(record);
        const path = record.path.split('?')[0]!;
        const json = (status: number, doc: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(doc));
        };
        if (record.method === 'GET' && path === '/readyz') {
          res.writeHead(state.readyStatus, { 'content-type': 'text/plain' });
          res.end(state.readyStatus === 200 ? 'ok' : '[-]etcd failed: reason withheld\nreadyz check failed');
          return;
        }
        if (record.method === 'PATCH' && record.contentType === 'application/apply-patch+yaml')
          return json(200, JSON.parse(record.body));
        if (record.method === 'GET' && documents.has(path)) return json(200, documents.get(path));
        json(404, {
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          message: `the server could not find the requested resource (${path})`,
          reason: 'NotFound',
          code: 404,
        });
      });
    },
  );
  server.on('tlsClientError', () => {
    state.refused++;
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    documents,
    get readyStatus() {
      return state.readyStatus;
    },
    set readyStatus(v: number) {
      state.readyStatus = v;
    },
    get refusedHandshakes() {
      return state.refused;
    },
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}
