import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Heartbeat } from '@slipway/contracts';
import { AgentChannelRecorder, bootSimulatedAgent } from '../src/index.js';

function post(
  recorder: AgentChannelRecorder,
  path: string,
  body: unknown,
  tls?: { certPem: string; keyPem: string },
): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      new URL(path, recorder.url),
      {
        method: 'POST',
        ca: recorder.caPem,
        cert: tls?.certPem,
        key: tls?.keyPem,
        agent: false,
        headers: { 'content-type': 'application/json' },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () =>
          resolve({ status: response.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString()) }),
        );
      },
    );
    request.on('error', reject);
    request.end(JSON.stringify(body));
  });
}

const heartbeat = (agentId: string): Heartbeat => ({
  agentId,
  instanceId: `instance-${agentId}`,
  appliedGeneration: 0,
  jobs: [],
});

describe('AgentChannelRecorder', () => {
  let recorder: AgentChannelRecorder;
  beforeAll(async () => {
    recorder = await AgentChannelRecorder.start();
  });
  afterAll(async () => {
    await recorder.stop();
  });

  it("answers a registered agent with running and its group's default jobs", async () => {
    await recorder.settingsFor('rec-1', { group: 'master' });
    const answer = await post(
      recorder,
      '/agent/v1/sync?wait=0&generation=0',
      heartbeat('rec-1'),
      await recorder.credentialsFor('rec-1'),
    );
    expect(answer.status).toBe(200);
    expect(answer.body.desired).toMatchObject({ generation: 1, state: 'running' });
    expect(answer.body.desired.jobs.map((j: { name: string }) => j.name)).toEqual([
      'etcd',
      'kube-apiserver',
      'kube-controller-manager',
      'kube-scheduler',
      'containerd',
      'kubelet',
      'kube-proxy',
    ]);
    expect(recorder.heartbeats('rec-1')).toEqual([heartbeat('rec-1')]);
  });

  it('answers 401 without a client certificate and 404 for an agent it forgot', async () => {
    expect((await post(recorder, '/agent/v1/sync?wait=0&generation=0', heartbeat('rec-2'))).status).toBe(401);
    await recorder.settingsFor('rec-2');
    const credentials = await recorder.credentialsFor('rec-2');
    recorder.forget('rec-2');
    expect((await post(recorder, '/agent/v1/sync?wait=0&generation=0', heartbeat('rec-2'), credentials)).status).toBe(
      404,
    );
    recorder.revoke('rec-2');
    expect((await post(recorder, '/agent/v1/sync?wait=0&generation=0', heartbeat('rec-2'), credentials)).status).toBe(
      401,
    );
  });

  it('holds a long poll until the desired state changes', async () => {
    await recorder.settingsFor('rec-3');
    const credentials = await recorder.credentialsFor('rec-3');
    const started = Date.now();
    const poll = post(recorder, '/agent/v1/sync?wait=5000&generation=1', heartbeat('rec-3'), credentials);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(recorder.heldPolls('rec-3')).toBe(1);
    recorder.setDesired('rec-3', { state: 'stopped' });
    const answer = await poll;
    expect(answer.body.desired).toMatchObject({ generation: 2, state: 'stopped' });
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('trades a bootstrap token once, for its own agent only', async () => {
    const settings = await recorder.settingsFor('rec-4');
    const { createKeyAndRequest } = await import('@slipway/agent');
    const { csrPem } = await createKeyAndRequest('rec-4');
    expect(
      (await post(recorder, '/agent/v1/bootstrap', { agentId: 'rec-5', token: settings.bootstrap.token, csr: csrPem }))
        .status,
      'foreign',
    ).toBe(401);
    const granted = await post(recorder, '/agent/v1/bootstrap', {
      agentId: 'rec-4',
      token: settings.bootstrap.token,
      csr: csrPem,
    });
    expect(granted.status).toBe(200);
    expect(granted.body.certificate).toContain('BEGIN CERTIFICATE');
    expect(
      (await post(recorder, '/agent/v1/bootstrap', { agentId: 'rec-4', token: settings.bootstrap.token, csr: csrPem }))
        .status,
      'replayed',
    ).toBe(401);
  });

  it('says what it saw when a sync does not come', async () => {
    await expect(recorder.waitForSync('never-registered', 50)).rejects.toThrow(/never registered through settingsFor/);
  });
});

describe('bootSimulatedAgent', () => {
  it('runs the real agent, and hang() stops its syncs while its processes live on', async () => {
    const recorder = await AgentChannelRecorder.start({ heartbeatIntervalMs: 100 });
    try {
      const settings = await recorder.settingsFor('sim-1');
      const agent = await bootSimulatedAgent({ kind: 'test', readSettings: async () => settings });
      expect(agent.agentId).toBe('sim-1');
      await recorder.waitForHeartbeat(
        'sim-1',
        (hb) => hb.jobs.every((j) => j.processes.every((p) => p.state === 'running')),
        2_000,
      );

      agent.hang();
      await new Promise((resolve) => setTimeout(resolve, 50));
      const count = recorder.heartbeats('sim-1').length;
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(recorder.heartbeats('sim-1').length, 'no heartbeat after hang()').toBe(count);
      expect(agent.runner.running().map((p) => p.spec.name)).toEqual(['containerd', 'kubelet', 'kube-proxy']);

      await agent.stop();
      expect(agent.runner.running()).toEqual([]);
    } finally {
      await recorder.stop();
    }
  });
});
