import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_BASE_AMI_ID, FAKE_ROOT_SNAPSHOT_ID } from '../fake/index.js';
import { failure, startDriver, vmInput, type DriverUnderTest } from './helpers.js';

describe('stemcells as AMIs', () => {
  let t: DriverUnderTest;
  beforeAll(async () => {
    t = await startDriver();
  });
  afterAll(() => t.stop());

  it("registers a light stemcell by AMI id, or by BOSH's per-region map, and never deregisters the AMI", async () => {
    const byId = await t.driver.createStemcell({
      name: 'ubuntu-jammy',
      version: '1',
      cloudProperties: { ami_id: FAKE_BASE_AMI_ID },
    });
    expect(byId.stemcellId).toBe(`${FAKE_BASE_AMI_ID} light`);
    const byRegion = await t.driver.createStemcell({
      name: 'ubuntu-jammy',
      version: '1',
      cloudProperties: { ami: { 'eu-west-1': 'ami-0000000000000beef', 'us-east-1': FAKE_BASE_AMI_ID } },
    });
    expect(byRegion.stemcellId).toBe(`${FAKE_BASE_AMI_ID} light`);
    await t.driver.deleteStemcell({ stemcellId: byId.stemcellId });
    expect(t.fake.state.images.get(FAKE_BASE_AMI_ID)?.state).toBe('available');
    expect(t.fake.calls('DeregisterImage')).toBe(0);
  });

  it('refuses a light stemcell whose AMI does not exist in the region', async () => {
    const error = await failure(
      t.driver.createStemcell({ name: 'ghost', version: '1', cloudProperties: { ami_id: 'ami-0000000000000dead' } }),
    );
    expect(error.code).toBe('CloudError');
    expect(error.message).toContain('does not exist in us-east-1');
  });

  it('registers an AMI from a root-disk snapshot once per request id, boots VMs from it, deregisters it twice', async () => {
    const requestId = randomUUID();
    const input = { name: 'ubuntu-jammy', version: '1.2', cloudProperties: { snapshot_id: FAKE_ROOT_SNAPSHOT_ID } };
    const { stemcellId } = await t.driver.createStemcell(input, { requestId });
    expect(t.fake.state.images.get(stemcellId)).toMatchObject({
      state: 'available',
      snapshotId: FAKE_ROOT_SNAPSHOT_ID,
      architecture: 'x86_64',
      virtualizationType: 'hvm',
      enaSupport: true,
      imdsSupport: 'v2.0',
    });
    const again = await t.driver.createStemcell(input, { requestId });
    expect(again.stemcellId).toBe(stemcellId);
    expect(t.fake.calls('RegisterImage')).toBe(1);
    const { vmId } = await t.driver.createVm(vmInput({ stemcellId }));
    expect(t.fake.state.instances.get(vmId)!.imageId).toBe(stemcellId);
    await t.driver.deleteStemcell({ stemcellId });
    await t.driver.deleteStemcell({ stemcellId });
    expect(t.fake.state.images.has(stemcellId)).toBe(false);
    expect(t.fake.state.snapshots.has(FAKE_ROOT_SNAPSHOT_ID), "the operator's snapshot stays").toBe(true);
  });

  it('finds the AMI of a RegisterImage whose answer was lost by its name', async () => {
    const requestId = randomUUID();
    const input = { name: 'lost', version: '7', cloudProperties: { snapshot_id: FAKE_ROOT_SNAPSHOT_ID } };
    t.fake.failNext('RegisterImage', {
      code: 'InternalError',
      message: 'An internal error has occurred',
      lostAnswer: true,
    });
    expect((await failure(t.driver.createStemcell(input, { requestId }))).code).toBe('Retryable');
    // DescribeImages does not show the new AMI yet; RegisterImage answers InvalidAMIName.Duplicate, naming it.
    t.fake.setConsistencyLag(300);
    const before = t.fake.calls('RegisterImage');
    const { stemcellId } = await t.driver.createStemcell(input, { requestId });
    t.fake.faults.reset();
    const registered = [...t.fake.state.images.values()].filter((i) => i.name.startsWith('slipway/lost/7/'));
    expect(registered.map((i) => i.id)).toEqual([stemcellId]);
    expect(t.fake.calls('RegisterImage') - before, 'the retry met the Duplicate answer').toBe(1);
    await t.driver.deleteStemcell({ stemcellId });
  });

  it('refuses a stemcell that names neither an AMI nor a snapshot, saying what to give', async () => {
    const error = await failure(t.driver.createStemcell({ name: 'raw', version: '1', imagePath: '/images/root.img' }));
    expect(error.code).toBe('InvalidInput');
    expect(error.hint).toContain('cloud_properties.ami_id');
  });

  it("keeps EC2's message when RegisterImage refuses the snapshot", async () => {
    const error = await failure(
      t.driver.createStemcell({
        name: 'bad',
        version: '1',
        cloudProperties: { snapshot_id: 'snap-00000000000000bad' },
      }),
    );
    expect(error.code).toBe('CloudError');
    expect(error.message).toContain("InvalidSnapshot.NotFound: The snapshot 'snap-00000000000000bad' does not exist.");
  });
});
