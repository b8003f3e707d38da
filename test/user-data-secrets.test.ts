import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentSettings, IaasDriver, PluginModule } from '@slipway/contracts';
import { AgentChannelRecorder, createTestHost, type StartedFake, type TestHost } from '@slipway/testkit/simulation';
import sandbox from '@slipway/iaas-sandbox';
import { startFake as startSandbox } from '@slipway/iaas-sandbox/fake';
import aws from '@slipway/iaas-aws';
import { FAKE_BASE_AMI_ID, startFake as startAws, type AwsFake } from '@slipway/iaas-aws/fake';
import gcp from '@slipway/iaas-gcp';
import { startFake as startGcp, type GcpFake } from '@slipway/iaas-gcp/fake';
import azure from '@slipway/iaas-azure';
import { FAKE_STEMCELL_BLOB, startFake as startAzure, type AzureFake } from '@slipway/iaas-azure/fake';
import openstack from '@slipway/iaas-openstack';
import { FAKE_BASE_IMAGE_ID, startFake as startOpenStack, type OpenStackFake } from '@slipway/iaas-openstack/fake';
import vsphere from '@slipway/iaas-vsphere';
import { startFake as startVsphere, type VsphereFake } from '@slipway/iaas-vsphere/fake';
import {
  fetchTls,
  httpGuestInfoReader,
  USERDATA_ENCODING_KEY,
  USERDATA_KEY,
  VM_ID_KEY,
} from '@slipway/iaas-vsphere/metadata';
import local, { vmLayout } from '@slipway/iaas-local';
import { startFake as startLocal, type LocalFake } from '@slipway/iaas-local/fake';

/**
 * No private key in what a VM's metadata service hands out. For every in-repo cloud, a VM is created with
 * the settings the control plane sends, its agent boots from them (and bootstraps: the recorder sees it
 * sync), and then everything the cloud's metadata endpoint serves about the VM (user data and metadata,
 * read over the wire as a guest or anyone with read access would) is searched for `PRIVATE KEY`.
 */
interface Cloud {
  name: string;
  plugin: PluginModule<'iaas', any>;
  startFake(): Promise<StartedFake>;
  stemcell?: Record<string, unknown>;
  /** The documents the cloud's metadata endpoint serves for the VM. */
  documents(fake: any, vmId: string): Promise<string[]>;
}

async function text(url: string, init: RequestInit = {}): Promise<string> {
  const response = await fetch(url, init);
  const body = await response.text();
  if (!response.ok) throw new Error(`${url}: ${response.status} ${body.slice(0, 200)}`);
  return body;
}

const CLOUDS: Cloud[] = [
  {
    name: 'sandbox',
    plugin: sandbox,
    startFake: startSandbox,
    async documents(fake: StartedFake<{ state_file: string }>, vmId) {
      return [
        readFileSync(`${fake.config.state_file}.userdata/${vmId}`, 'utf8'),
        readFileSync(fake.config.state_file, 'utf8'),
      ];
    },
  },
  {
    name: 'aws',
    plugin: aws,
    startFake: startAws,
    stemcell: { ami_id: FAKE_BASE_AMI_ID },
    async documents(fake: AwsFake, vmId) {
      const base = fake.metadataUrl(vmId);
      const token = await text(`${base}/latest/api/token`, {
        method: 'PUT',
        headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' },
      });
      const get = (path: string) => text(`${base}${path}`, { headers: { 'x-aws-ec2-metadata-token': token } });
      const listing = await get('/latest/meta-data/');
      const leaves = listing.split('\n').filter((l) => l && !l.endsWith('/'));
      return [
        await get('/latest/user-data'),
        listing,
        ...(await Promise.all(leaves.map((l) => get(`/latest/meta-data/${l}`)))),
      ];
    },
  },
  {
    name: 'gcp',
    plugin: gcp,
    startFake: startGcp,
    async documents(fake: GcpFake, vmId) {
      // The driver's vmId is ZONE/NAME; the metadata server is per instance (numeric) id.
      const instance = [...fake.state.instances.values()].find(
        (i) => `${i.zone}/${i.name}` === vmId || i.name === vmId.split('/').pop(),
      );
      if (!instance) throw new Error(`no instance ${vmId} in the fake`);
      // The fake's metadata server serves the paths a guest reads (no recursive listing): every attribute, and the instance's facts.
      const get = (path: string) =>
        text(`${fake.metadataUrl(instance.id)}/computeMetadata/v1/${path}`, {
          headers: { 'metadata-flavor': 'Google' },
        });
      const keys = (await get('instance/attributes/')).split('\n').filter(Boolean);
      const facts = [
        'instance/id',
        'instance/name',
        'instance/hostname',
        'instance/zone',
        'instance/machine-type',
        'instance/network-interfaces/0/ip',
      ];
      return [
        ...(await Promise.all(keys.map((k) => get(`instance/attributes/${k}`)))),
        ...(await Promise.all(facts.map(get))),
      ];
    },
  },
  {
    name: 'azure',
    plugin: azure,
    startFake: startAzure,
    stemcell: { source_uri: FAKE_STEMCELL_BLOB },
    async documents(fake: AzureFake, vmId) {
      const base = fake.imdsUrl(vmId);
      const headers = { Metadata: 'true' };
      return [
        await text(`${base}/metadata/instance/compute/userData?api-version=2021-01-01&format=text`, { headers }),
        await text(`${base}/metadata/instance?api-version=2021-02-01`, { headers }),
      ];
    },
  },
  {
    name: 'openstack',
    plugin: openstack,
    startFake: startOpenStack,
    stemcell: { image_id: FAKE_BASE_IMAGE_ID },
    async documents(fake: OpenStackFake, vmId) {
      const base = fake.metadataUrl(vmId);
      return [await text(`${base}/openstack/latest/user_data`), await text(`${base}/openstack/latest/meta_data.json`)];
    },
  },
  {
    name: 'vsphere',
    plugin: vsphere,
    startFake: startVsphere,
    async documents(fake: VsphereFake, vmId) {
      const tls = await fetchTls({ caPem: fake.caPem });
      try {
        const vm = fake.vm(vmId);
        if (!vm) throw new Error(`no VM ${vmId} in the fake`);
        const reader = httpGuestInfoReader({ url: fake.guestinfoUrl(vm.ref.value), tls });
        const values = await Promise.all(
          [USERDATA_KEY, USERDATA_ENCODING_KEY, VM_ID_KEY].map((key) => reader.get(key)),
        );
        return values.map((v) => v ?? '');
      } finally {
        await tls.close();
      }
    },
  },
  {
    name: 'local',
    plugin: local,
    startFake: () => startLocal(),
    async documents(fake: LocalFake, vmId) {
      const layout = vmLayout(fake.root, vmId);
      return [
        readFileSync(layout.userData, 'utf8'),
        readFileSync(layout.metaData, 'utf8'),
        readFileSync(`${fake.root}/state.json`, 'utf8'),
      ];
    },
  },
];

function decodedIfBase64(document: string): string {
  const trimmed = document.trim();
  return /^[A-Za-z0-9+/]+=*$/.test(trimmed) && trimmed.length > 40
    ? Buffer.from(trimmed, 'base64').toString('utf8')
    : '';
}

describe.each(CLOUDS)('$name: user data and metadata carry no private key', (cloud) => {
  let recorder: AgentChannelRecorder;
  let fake: StartedFake;
  let host: TestHost;
  let driver: IaasDriver;
  let stemcellId: string | undefined;
  let vmId: string | undefined;

  beforeAll(async () => {
    recorder = await AgentChannelRecorder.start({ heartbeatIntervalMs: 500 });
    fake = await cloud.startFake();
    host = await createTestHost({ credentials: fake.credentials, instanceName: `secrets-${cloud.name}` });
    driver = await cloud.plugin.create(structuredClone(fake.config), host);
  }, 60_000);

  afterAll(async () => {
    if (vmId) await driver?.deleteVm({ vmId }, {});
    if (stemcellId) await driver?.deleteStemcell({ stemcellId }, {});
    await driver?.destroy?.();
    await fake?.stop();
    await recorder?.stop();
    await host?.cleanup();
  }, 60_000);

  it("the VM's agent bootstraps from its user data, and nothing the metadata endpoint serves holds a private key", async () => {
    stemcellId = (
      await driver.createStemcell(
        { name: 'secrets', version: '1', cloudProperties: cloud.stemcell },
        { requestId: randomUUID() },
      )
    ).stemcellId;
    const agentId = `agent-${randomUUID()}`;
    const settings: AgentSettings = await recorder.settingsFor(agentId, { network: { ip: '10.200.9.9' } });
    vmId = (
      await driver.createVm(
        {
          agentId,
          stemcellId,
          resources: { cpu: 1, memoryMb: 512, ephemeralDiskMb: 2048 },
          network: settings.network,
          env: settings,
          metadata: { 'slipway.test': 'secrets' },
        },
        { requestId: randomUUID() },
      )
    ).vmId;
    // The agent read its settings over this cloud's metadata path and traded the token for a certificate.
    await recorder.waitForSync(agentId, 30_000);
    expect(recorder.syncs.filter((s) => s.route === 'bootstrap' && s.agentId === agentId).map((s) => s.status)).toEqual(
      [200],
    );

    const documents = await cloud.documents(fake, vmId);
    // User data is often base64 on the wire (EC2, Azure customData, guestinfo): read it both ways.
    const readable = documents.flatMap((d) => [d, decodedIfBase64(d)]);
    // What was read back is the real user data: it carries this VM's one-time token...
    expect(readable.join('\n')).toContain(settings.bootstrap.token);
    // ...and no key of any kind.
    for (const document of readable) expect(document).not.toContain('PRIVATE KEY');
  }, 90_000);
});
