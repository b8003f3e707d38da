import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InstancesClient, ZoneOperationsClient, type protos } from '@google-cloud/compute';
import { OAuth2Client } from 'google-auth-library';
import { ServiceAccountTokens } from '../src/auth.js';
import { GceMetadataServer } from '../src/metadata.js';
import { FAKE_BASE_IMAGE, startFake, type GcpFake } from '../fake/index.js';

type ComputeOperation = protos.google.cloud.compute.v1.IOperation;

/** insert() and delete() answer a wrapper whose latestResponse is the Compute Operation. */
function operationOf(started: { latestResponse: unknown }): ComputeOperation {
  return started.latestResponse as ComputeOperation;
}

/**
 * Google's own client (@google-cloud/compute v6, REST transport) against the fake: if the fake's paths,
 * bodies, operations and errors were only what this driver expects, this is where it would show.
 */
describe('the official @google-cloud/compute client against the fake', () => {
  let fake: GcpFake;
  let instances: InstancesClient;
  let operations: ZoneOperationsClient;
  const zone = 'us-central1-b';

  beforeAll(async () => {
    fake = await startFake();
    // The token comes from the fake's token endpoint by the JWT grant (the library's own JWT client posts to
    // oauth2.googleapis.com whatever the key's token_uri says).
    const token = await new ServiceAccountTokens(fake.serviceAccountKey, {
      now: () => Date.now(),
      sleep: async () => undefined,
    }).token();
    const authClient = new OAuth2Client();
    authClient.setCredentials({ access_token: token.value, expiry_date: Date.now() + 3_000_000 });
    const port = Number(new URL(fake.url).port);
    const options = { apiEndpoint: '127.0.0.1', port, protocol: 'http', fallback: true, authClient } as const;
    instances = new InstancesClient(options);
    operations = new ZoneOperationsClient(options);
  }, 30_000);
  afterAll(async () => {
    await instances?.close();
    await operations?.close();
    await fake?.stop();
  });

  /** What the client's own samples do: zoneOperations.wait until the operation is DONE. */
  async function waitDone(operation: ComputeOperation, where = zone): Promise<ComputeOperation> {
    let current = operation;
    while (current.status !== 'DONE') {
      [current] = await operations.wait({ project: fake.project, zone: where, operation: current.name! });
    }
    return current;
  }

  async function insert(name: string, where: string, ip: string) {
    const [started] = await instances.insert({
      project: fake.project,
      zone: where,
      requestId: randomUUID(),
      instanceResource: {
        name,
        machineType: `zones/${where}/machineTypes/e2-small`,
        labels: { purpose: 'official-client' },
        metadata: { items: [{ key: 'slipway-agent-settings', value: 'hello from the official client' }] },
        disks: [{ boot: true, autoDelete: true, initializeParams: { sourceImage: FAKE_BASE_IMAGE, diskSizeGb: 10 } }],
        networkInterfaces: [{ network: 'global/networks/default', networkIP: ip }],
      },
    });
    return operationOf(started);
  }

  it('inserts an instance, follows the zone operation to DONE, and reads it back', async () => {
    const name = `official-${randomUUID().slice(0, 8)}`;
    const done = await waitDone(await insert(name, zone, '10.7.0.2'));
    expect(done.status).toBe('DONE');
    expect(done).not.toHaveProperty('error');
    const [instance] = await instances.get({ project: fake.project, zone, instance: name });
    expect(instance).toMatchObject({ name, status: 'RUNNING', labels: { purpose: 'official-client' } });
    expect(instance.networkInterfaces?.[0]?.networkIP).toBe('10.7.0.2');
    expect(String(instance.disks?.[0]?.diskSizeGb)).toBe('10');
    // The guest's metadata server serves what the client wrote, to the driver's own reader.
    expect(await new GceMetadataServer(fake.metadataUrl(String(instance.id))).attribute('slipway-agent-settings')).toBe(
      'hello from the official client',
    );
  });

  it('pages through a label-filtered aggregated list', async () => {
    await waitDone(await insert(`official-${randomUUID().slice(0, 8)}`, 'us-central1-c', '10.7.0.3'), 'us-central1-c');
    const found: string[] = [];
    const pages = instances.aggregatedListAsync(
      { project: fake.project, filter: 'labels.purpose = "official-client"', maxResults: 1 },
      { autoPaginate: false },
    );
    for await (const [scope, list] of pages) {
      for (const instance of list.instances ?? []) found.push(`${scope}/${instance.name}`);
    }
    expect(found.map((f) => f.split('/').slice(0, 2).join('/')).sort()).toEqual([
      'zones/us-central1-b',
      'zones/us-central1-c',
    ]);
    expect(fake.calls('instances.aggregatedList')).toBeGreaterThanOrEqual(2);
    const [deleted] = await instances.delete({
      project: fake.project,
      zone: 'us-central1-c',
      instance: found.find((f) => f.includes('us-central1-c'))!.split('/')[2]!,
    });
    await waitDone(operationOf(deleted), 'us-central1-c');
  });

  it("gets Google's 404 body for a missing instance, as the client surfaces it", async () => {
    // With an OAuth2Client the REST transport fetches through gaxios, which throws the HTTP error itself.
    const error = await instances.get({ project: fake.project, zone, instance: 'no-such-instance' }).then(
      () => undefined,
      (e: unknown) => e as { status?: number; message?: string },
    );
    expect(error?.status).toBe(404);
    const body = JSON.parse(error!.message!) as {
      error: { code: number; status: string; errors: Array<{ reason: string }>; message: string };
    };
    expect(body.error).toMatchObject({ code: 404, status: 'NOT_FOUND', errors: [{ reason: 'notFound' }] });
    expect(body.error.message).toBe(
      `The resource 'projects/${fake.project}/zones/${zone}/instances/no-such-instance' was not found`,
    );
  });

  it("sees a failed operation's error and a repeated requestId answered with the first operation", async () => {
    const requestId = randomUUID();
    fake.failNextOperation('instances.insert', {
      code: 'ZONE_RESOURCE_POOL_EXHAUSTED',
      message: 'The zone does not have enough resources available to fulfill the request.',
      httpStatus: 503,
    });
    const request = {
      project: fake.project,
      zone,
      requestId,
      instanceResource: {
        name: `official-${randomUUID().slice(0, 8)}`,
        machineType: `zones/${zone}/machineTypes/e2-micro`,
        disks: [{ boot: true, initializeParams: { sourceImage: FAKE_BASE_IMAGE } }],
        networkInterfaces: [{ network: 'global/networks/default' }],
      },
    };
    const [first] = await instances.insert(request);
    const failed = await waitDone(operationOf(first));
    expect(failed.error?.errors?.[0]).toMatchObject({ code: 'ZONE_RESOURCE_POOL_EXHAUSTED' });
    expect(failed.httpErrorStatusCode).toBe(503);
    const [again] = await instances.insert(request);
    expect(operationOf(again).name).toBe(failed.name);
  });

  it('deletes, and the instance is gone once the operation is DONE', async () => {
    const [list] = await instances.list({ project: fake.project, zone });
    const name = list.find((i) => i.name?.startsWith('official-'))!.name!;
    const [started] = await instances.delete({ project: fake.project, zone, instance: name });
    await waitDone(operationOf(started));
    const error = await instances.get({ project: fake.project, zone, instance: name }).then(
      () => undefined,
      (e: unknown) => e as { status?: number },
    );
    expect(error?.status).toBe(404);
  });
});
