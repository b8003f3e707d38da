import { describe, expect, it } from 'vitest';
import { credentialScope } from '../src/index.js';
import { kubernetesPkiLayout, KUBERNETES_CAS } from '../src/kubernetes/index.js';

const PATH = '/slipway/clusters/0c4f7f5e-1111-4222-8333-444455556666';

describe('credential scopes', () => {
  it("keeps every credential of a cluster's PKI layout the engine's, but the CAs' certificates", () => {
    const layout = kubernetesPkiLayout({
      path: PATH,
      externalHostname: 'k.example.test',
      masters: [{ name: 'master-0', ip: '10.0.0.10' }],
      workers: [{ name: 'worker-0', ip: '10.0.0.20' }],
    }).flat();
    expect(layout.length).toBeGreaterThan(15);
    for (const entry of layout) {
      const want = (KUBERNETES_CAS as readonly string[]).includes(entry.name) ? 'certificate-authority' : 'engine';
      expect([entry.name, credentialScope(`${PATH}/${entry.name}`)]).toEqual([entry.name, want]);
    }
  });

  it("leaves a user's kubeconfig certificate and paths outside Slipway's to the permission entries", () => {
    expect(credentialScope(`${PATH}/users/7`)).toBe('granted');
    expect(credentialScope('/slipway/iaas/aws')).toBe('granted');
    expect(credentialScope('/team/app/db')).toBe('granted');
  });

  it("keeps the control plane's credentials and agents' keys the engine's, however the path is written", () => {
    for (const name of [
      '/slipway/control-plane/ca',
      'slipway/control-plane/agent-ca',
      '/slipway/control-plane/server',
      `${PATH}/agents/a-1`,
      `${PATH}/users/7/extra`,
    ]) {
      expect([name, credentialScope(name)]).toEqual([name, 'engine']);
    }
    // Permission paths are classified like names: an entry on a cluster's whole path cannot reach its keys.
    expect(credentialScope(`${PATH}/*`)).toBe('engine');
    expect(credentialScope('/slipway/control-plane/*')).toBe('engine');
  });
});
