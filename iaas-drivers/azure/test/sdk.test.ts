import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ComputeManagementClient } from '@azure/arm-compute';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { encodeAgentSettings } from '@slipway/contracts';
import { FAKE_LOCATION, FAKE_PLATFORM_IMAGE, startFake, type AzureFake } from '../fake/index.js';
import { armRequest, groupPath, placeholderSettings, rawRequest } from './helpers.js';

/** A TokenCredential that asks the fake's Entra endpoint, with the scope the SDK wants, as any confidential client would. */
class FakeEntraCredential implements TokenCredential {
  readonly scopes: string[] = [];

  constructor(private readonly fake: AzureFake) {}

  async getToken(scopes: string | string[]): Promise<AccessToken> {
    const scope = Array.isArray(scopes) ? scopes[0]! : scopes;
    this.scopes.push(scope);
    const credential = this.fake.credentials![0]!.value as {
      tenant_id: string;
      client_id: string;
      client_secret: string;
    };
    const form = new URLSearchParams({
      client_id: credential.client_id,
      client_secret: credential.client_secret,
      scope,
      grant_type: 'client_credentials',
    }).toString();
    const response = await rawRequest(this.fake, 'POST', `/${credential.tenant_id}/oauth2/v2.0/token`, form, {
      'content-type': 'application/x-www-form-urlencoded',
    });
    if (response.status !== 200) throw new Error(`token request failed: ${response.status} ${response.text}`);
    const body = JSON.parse(response.text) as { access_token: string; expires_in: number };
    return { token: body.access_token, expiresOnTimestamp: Date.now() + body.expires_in * 1000 };
  }
}

/**
 * The official @azure/arm-compute client against the fake: proof that the fake answers what real clients
 * expect (paths, api-versions, bodies, long-running operations, error shapes). The fake's CA is trusted
 * through the SDK pipeline's tlsOptions; retries are off so a fault is seen once.
 */
describe('@azure/arm-compute against the fake', () => {
  let fake: AzureFake;
  let client: ComputeManagementClient;
  let credential: FakeEntraCredential;
  const rg = () => fake.state.resourceGroup;
  const poll = { updateIntervalInMs: 10 };

  beforeAll(async () => {
    fake = await startFake({ bootAgents: false });
    credential = new FakeEntraCredential(fake);
    client = new ComputeManagementClient(credential, fake.state.subscriptionId, {
      endpoint: fake.url,
      tlsOptions: { ca: fake.caPem },
      retryOptions: { maxRetries: 0 },
    });
  });
  afterEach(() => fake.faults.reset());
  afterAll(() => fake.stop());

  async function nic(name: string, ip: string): Promise<string> {
    const path = groupPath(fake, `Microsoft.Network/networkInterfaces/${name}`);
    const put = await armRequest(fake, 'PUT', `${path}?api-version=2024-05-01`, {
      location: FAKE_LOCATION,
      properties: {
        ipConfigurations: [
          {
            name: 'ipconfig1',
            properties: {
              privateIPAllocationMethod: 'Static',
              privateIPAddress: ip,
              subnet: { id: fake.config.subnet_id },
            },
          },
        ],
      },
    });
    expect(put.status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 40));
    return put.json.id as string;
  }

  function vmParameters(nicId: string, name: string) {
    const settings = encodeAgentSettings(placeholderSettings());
    return {
      location: FAKE_LOCATION,
      tags: { 'slipway.sdk': 'yes' },
      hardwareProfile: { vmSize: 'Standard_B2s' },
      storageProfile: {
        imageReference: { ...FAKE_PLATFORM_IMAGE },
        osDisk: {
          createOption: 'FromImage',
          managedDisk: { storageAccountType: 'StandardSSD_LRS' },
          deleteOption: 'Delete',
        },
      },
      osProfile: {
        computerName: name,
        adminUsername: 'azureuser',
        customData: settings,
        linuxConfiguration: {
          disablePasswordAuthentication: true,
          ssh: { publicKeys: [{ path: '/home/azureuser/.ssh/authorized_keys', keyData: fake.config.ssh_public_key }] },
        },
      },
      networkProfile: { networkInterfaces: [{ id: nicId, primary: true, deleteOption: 'Delete' }] },
      userData: settings,
    };
  }

  it("creates a VM through the SDK's long-running-operation poller and reads its power state", async () => {
    const nicId = await nic('sdk-vm-nic', '10.7.0.10');
    const polls = fake.calls('OperationStatus_Get');
    const vm = await client.virtualMachines.createOrUpdate(rg(), 'sdk-vm', vmParameters(nicId, 'sdk-vm'), poll);
    expect(vm.provisioningState).toBe('Succeeded');
    expect(vm.vmId).toMatch(/^[0-9a-f-]{36}$/);
    expect(vm.storageProfile?.imageReference?.exactVersion).toBe('24.04.202501140');
    expect(fake.calls('OperationStatus_Get')).toBeGreaterThan(polls);
    expect(credential.scopes[0]).toBe('https://management.azure.com/.default');
    const withView = await client.virtualMachines.get(rg(), 'sdk-vm', { expand: 'instanceView' });
    expect(withView.instanceView?.statuses?.map((s) => s.code)).toContain('PowerState/running');
    expect(withView.osProfile?.customData).toBeUndefined();
  });

  it('restarts the VM (202 with Azure-AsyncOperation and Location) and lists it', async () => {
    await client.virtualMachines.restart(rg(), 'sdk-vm', poll);
    expect(fake.calls('VirtualMachines_Restart')).toBe(1);
    const names: string[] = [];
    for await (const vm of client.virtualMachines.list(rg())) names.push(vm.name!);
    expect(names).toContain('sdk-vm');
  });

  it("creates, grows, lists and deletes a managed disk on the disk RP's own api-version", async () => {
    const disk = await client.disks.createOrUpdate(
      rg(),
      'sdk-disk',
      {
        location: FAKE_LOCATION,
        sku: { name: 'Premium_LRS' },
        creationData: { createOption: 'Empty' },
        diskSizeGB: 8,
      },
      poll,
    );
    expect(disk).toMatchObject({ provisioningState: 'Succeeded', diskSizeGB: 8, diskState: 'Unattached' });
    const grown = await client.disks.update(rg(), 'sdk-disk', { diskSizeGB: 16 }, poll);
    expect(grown.diskSizeGB).toBe(16);
    const names: string[] = [];
    for await (const d of client.disks.listByResourceGroup(rg())) names.push(d.name!);
    expect(names).toContain('sdk-disk');
    fake.setLroBehaviour({ style: 'location' });
    await client.disks.delete(rg(), 'sdk-disk', poll);
    expect(fake.state.disks.has('sdk-disk')).toBe(false);
  });

  it("parses the fake's ARM error bodies: code and message of a 404, and of a failed operation", async () => {
    const missing = await client.virtualMachines.get(rg(), 'no-such-vm').then(
      () => undefined,
      (error: unknown) => error as { statusCode?: number; code?: string; message: string },
    );
    expect(missing).toMatchObject({ statusCode: 404, code: 'ResourceNotFound' });
    expect(missing!.message).toContain(
      "The Resource 'Microsoft.Compute/virtualMachines/no-such-vm' under resource group",
    );
    const nicId = await nic('sdk-fail-nic', '10.7.0.11');
    fake.failNextOperation('VirtualMachines_CreateOrUpdate');
    const failed = await client.virtualMachines
      .createOrUpdate(rg(), 'sdk-fail', vmParameters(nicId, 'sdk-fail'), poll)
      .then(
        () => undefined,
        (error: unknown) => error as Error,
      );
    expect(failed?.message).toContain('Allocation failed');
  });

  it("is refused by the fake without a token, with ARM's 401 and challenge", async () => {
    const path = `${groupPath(fake, 'Microsoft.Compute/virtualMachines/sdk-vm')}?api-version=2024-07-01`;
    const response = await rawRequest(fake, 'GET', path, undefined, { authorization: 'Bearer not-a-token' });
    expect(response.status).toBe(401);
    expect(JSON.parse(response.text)).toEqual({
      error: { code: 'InvalidAuthenticationToken', message: 'The access token is invalid.' },
    });
    expect(String(response.headers['www-authenticate'])).toContain('error="invalid_token"');
  });
});

describe("the fake's api-version checks", () => {
  let fake: AzureFake;
  beforeAll(async () => {
    fake = await startFake({ bootAgents: false });
  });
  afterAll(() => fake.stop());

  it('refuses a request without api-version, and a Compute version sent to the disk RP', async () => {
    const disk = groupPath(fake, 'Microsoft.Compute/disks/d1');
    const missing = await armRequest(fake, 'GET', disk);
    expect(missing.status).toBe(400);
    expect(missing.json.error.code).toBe('MissingApiVersionParameter');
    const wrong = await armRequest(fake, 'GET', `${disk}?api-version=2024-07-01`);
    expect(wrong.status).toBe(400);
    expect(wrong.json.error.code).toBe('NoRegisteredProviderFound');
    expect(wrong.json.error.message).toContain("API version '2024-07-01' for type 'disks'");
    const right = await armRequest(fake, 'GET', `${disk}?api-version=2024-03-02`);
    expect(right.status).toBe(404);
    expect(right.json.error.code).toBe('ResourceNotFound');
  });
});
