import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StartedRegistryFake } from '@slipway/simulation';
import type { HarborConfig } from '../src/config.js';
import { FaultPlan } from './faults.js';
import { RegistryProcess } from './registry-process.js';
import { FilesystemRepositories } from './repositories.js';
import { harborRoutes } from './routes.js';
import { startHarborServer } from './server.js';
import { HarborState } from './state.js';
import { createFakeTls } from './tls.js';
import { TokenIssuer } from './token.js';

export { FaultPlan, VERB_OPERATIONS } from './faults.js';
export { HarborState } from './state.js';
export { DOCKER_REGISTRY_BINARY } from './registry-process.js';

export const FAKE_ADMIN_CREDENTIAL = '/slipway/registry/harbor-admin';

export interface StartedHarborFake extends StartedRegistryFake<HarborConfig> {
  faults: FaultPlan;
  /** `https://127.0.0.1:PORT`: the API under /api/v2.0, the token service, and the registry under /v2/. */
  url: string;
  /** `127.0.0.1:PORT`: what skopeo, containerd and docker call the registry. */
  host: string;
  /** The fake's CA (what `/systeminfo/getcert` returns); trust it to reach `url`. */
  caPem: string;
  admin: { username: string; password: string };
  /** docker-registry itself, plain HTTP on loopback, token auth from this fake: for comparing with the proxied path. */
  registryUrl: string;
  state: HarborState;
  /** Requests per Harbor operation. */
  calls: Map<string, number>;
}

/**
 * Starts a wire-level fake of Harbor v2.0 on 127.0.0.1 over HTTPS with its own CA: projects, metadata, quota,
 * members and robots on `/api/v2.0`, and the image data path `/v2/` served by Debian's docker-registry
 * (distribution), which trusts only tokens this fake signs, scoped by each robot's project permissions.
 */
export async function startFake(options: { port?: number } = {}): Promise<StartedHarborFake> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-harbor-fake-'));
  try {
    const tls = await createFakeTls();
    const rootCertPath = join(dir, 'token-signer.crt');
    await writeFile(rootCertPath, tls.tokenSigner.certificatePem);
    const admin = { username: 'admin', password: `Harbor${randomBytes(12).toString('hex')}` };
    const state = new HarborState(admin);
    const faults = new FaultPlan();
    const calls = new Map<string, number>();
    let registry: RegistryProcess | undefined;
    const repos = new FilesystemRepositories(join(dir, 'storage'), () => registry?.running ?? false);
    const { server, url } = await startHarborServer(
      {
        state,
        faults,
        calls,
        repos,
        routes: harborRoutes(state, repos, tls.caPem),
        tokens: new TokenIssuer(tls.tokenSigner),
        registryUrl: () => registry?.url,
      },
      { cert: `${tls.server.certificatePem}`, key: tls.server.privateKeyPem },
      options.port,
    );
    const stopServer = () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    try {
      registry = await RegistryProcess.start({ dir, realm: `${url}/service/token`, rootCertPath });
    } catch (error) {
      await stopServer();
      throw error;
    }
    const running = registry;
    return {
      config: { url, credentials_ref: FAKE_ADMIN_CREDENTIAL, ca_pem: tls.caPem },
      credentials: [
        { name: FAKE_ADMIN_CREDENTIAL, type: 'user', value: { username: admin.username, password: admin.password } },
      ],
      faults,
      url,
      host: new URL(url).host,
      caPem: tls.caPem,
      admin,
      registryUrl: running.url,
      state,
      calls,
      async stop() {
        await stopServer();
        await running.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
export { writeOciImage } from './oci-layout.js';
