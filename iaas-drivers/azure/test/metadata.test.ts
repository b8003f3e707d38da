import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeAgentSettings } from '@slipway/contracts';
import { AzureImdsMetadata } from '../src/metadata.js';
import { FAKE_LOCATION, FAKE_PLATFORM_IMAGE } from '../fake/index.js';
import {
  armRequest,
  failure,
  groupPath,
  placeholderSettings,
  startDriver,
  stemcell,
  vmInput,
  type DriverUnderTest,
} from './helpers.js';

describe("the agent's IMDS reader", () => {
  let t: DriverUnderTest;
  let dir: string;
  let vmId: string;
  const settings = placeholderSettings();
  beforeAll(async () => {
    t = await startDriver();
    dir = await mkdtemp(join(tmpdir(), 'slipway-azure-imds-'));
    vmId = (await t.driver.createVm(vmInput(await stemcell(t.driver), {}, settings))).vmId;
  });
  afterAll(async () => {
    await t.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the settings from userData and names the VM as the driver knows it', async () => {
    const imds = new AzureImdsMetadata({ baseUrl: t.fake.imdsUrl(vmId), customDataPaths: [] });
    expect(await imds.readSettings()).toEqual(settings);
    expect(await imds.instanceId()).toBe(vmId);
    const document = await imds.instance();
    expect(document.compute).toMatchObject({
      location: FAKE_LOCATION,
      resourceGroupName: t.fake.state.resourceGroup,
      vmSize: 'Standard_B1s',
    });
    expect(document.network?.interface?.[0]?.ipv4?.ipAddress?.[0]?.privateIpAddress).toBe(settings.network.ip);
  });

  it("finds an attached data disk by its LUN, as the Azure agent's udev links name it", async () => {
    const imds = new AzureImdsMetadata({ baseUrl: t.fake.imdsUrl(vmId), customDataPaths: [] });
    const { diskId } = await t.driver.createDisk({ sizeMb: 1024, vmId });
    expect(await imds.locateDisk(diskId)).toBeUndefined();
    const { hint } = await t.driver.attachDisk({ vmId, diskId });
    expect(hint).toMatchObject({ kind: 'lun', lun: 0 });
    expect(await imds.locateDisk(diskId)).toEqual({ kind: 'device', path: '/dev/disk/azure/scsi1/lun0' });
    await t.driver.detachDisk({ vmId, diskId });
  });

  it('is refused by IMDS without the Metadata header, through a proxy, or without api-version', async () => {
    const base = `${t.fake.imdsUrl(vmId)}/metadata/instance`;
    const noHeader = await fetch(`${base}?api-version=2021-02-01`);
    expect(noHeader.status).toBe(400);
    expect(await noHeader.json()).toEqual({ error: 'Bad request. Required metadata header not specified' });
    const proxied = await fetch(`${base}?api-version=2021-02-01`, {
      headers: { Metadata: 'true', 'X-Forwarded-For': '10.0.0.9' },
    });
    expect(proxied.status).toBe(400);
    const noVersion = await fetch(base, { headers: { Metadata: 'true' } });
    expect(noVersion.status).toBe(400);
    expect(((await noVersion.json()) as { 'newest-versions': string[] })['newest-versions'].length).toBeGreaterThan(0);
  });

  it("falls back to waagent's CustomData and ovf-env.xml when the VM has no userData", async () => {
    const nic = await armRequest(
      t.fake,
      'PUT',
      `${groupPath(t.fake, 'Microsoft.Network/networkInterfaces/bare-nic')}?api-version=2024-05-01`,
      {
        location: FAKE_LOCATION,
        properties: {
          ipConfigurations: [
            {
              name: 'ipconfig1',
              properties: {
                privateIPAllocationMethod: 'Static',
                privateIPAddress: '10.8.0.9',
                subnet: { id: t.fake.config.subnet_id },
              },
            },
          ],
        },
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 40));
    const encoded = encodeAgentSettings(settings);
    const vm = await armRequest(
      t.fake,
      'PUT',
      `${groupPath(t.fake, 'Microsoft.Compute/virtualMachines/bare')}?api-version=2024-07-01`,
      {
        location: FAKE_LOCATION,
        properties: {
          hardwareProfile: { vmSize: 'Standard_B1s' },
          storageProfile: { imageReference: { ...FAKE_PLATFORM_IMAGE } },
          osProfile: {
            computerName: 'bare',
            adminUsername: 'azureuser',
            customData: encoded,
            linuxConfiguration: {
              disablePasswordAuthentication: true,
              ssh: {
                publicKeys: [{ path: '/home/azureuser/.ssh/authorized_keys', keyData: t.fake.config.ssh_public_key }],
              },
            },
          },
          networkProfile: { networkInterfaces: [{ id: nic.json.id }] },
        },
      },
    );
    expect(vm.status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 80));
    const customData = join(dir, 'CustomData');
    const ovfEnv = join(dir, 'ovf-env.xml');
    await writeFile(
      ovfEnv,
      `<?xml version="1.0"?><ns0:Environment xmlns:ns0="http://schemas.dmtf.org/ovf/environment/1" xmlns:ns1="http://schemas.microsoft.com/windowsazure"><ns1:ProvisioningSection><ns1:LinuxProvisioningConfigurationSet><ns1:CustomData>${encoded}</ns1:CustomData></ns1:LinuxProvisioningConfigurationSet></ns1:ProvisioningSection></ns0:Environment>`,
    );
    const fromOvf = new AzureImdsMetadata({ baseUrl: t.fake.imdsUrl('bare'), customDataPaths: [customData, ovfEnv] });
    expect(await fromOvf.readSettings()).toEqual(settings);
    // waagent with Provisioning.DecodeCustomData=y writes the decoded JSON.
    await writeFile(customData, JSON.stringify(settings));
    expect(await fromOvf.readSettings()).toEqual(settings);
    const nowhere = new AzureImdsMetadata({ baseUrl: t.fake.imdsUrl('bare'), customDataPaths: [join(dir, 'missing')] });
    expect((await failure(nowhere.readSettings())).code).toBe('NotFound');
  });

  it("calls an IMDS that does not answer Retryable: the VM's network may not be up yet", async () => {
    const imds = new AzureImdsMetadata({ baseUrl: 'http://127.0.0.1:9', customDataPaths: [] });
    expect((await failure(imds.readSettings())).code).toBe('Retryable');
  });
});
