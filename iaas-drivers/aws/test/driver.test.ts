import { randomUUID } from 'node:crypto';
import { EC2Client, DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { Ajv } from 'ajv';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AgentChannelRecorder } from '@slipway/testkit/simulation';
import { clientToken, configSchema } from '../src/index.js';
import { startFake } from '../fake/index.js';
import { failure, placeholderSettings, sleep, startDriver, vmInput, type DriverUnderTest } from './helpers.js';

const decode = (base64: string) => JSON.parse(Buffer.from(base64, 'base64').toString('utf8')) as unknown;

describe('VMs on EC2', () => {
  let t: DriverUnderTest;
  beforeAll(async () => {
    t = await startDriver({ config: { default_tags: { team: 'platform', 'slipway.cluster': 'overridden' } } });
  });
  afterEach(() => t.fake.faults.reset());
  afterAll(() => t.stop());

  it('launches an instance with the settings as UserData, the address, subnet, groups and tags, and waits for running', async () => {
    const input = vmInput({ cloudProperties: { instance_type: 't3.large' } });
    const requestId = randomUUID();
    const created = await t.driver.createVm(input, { requestId });
    const instance = t.fake.state.instances.get(created.vmId)!;
    expect(instance.state).toBe('running');
    expect(decode(instance.userData!)).toEqual(input.env);
    expect(instance).toMatchObject({
      instanceType: 't3.large',
      privateIp: input.network.ip,
      subnetId: t.fake.config.subnet_id,
      securityGroupIds: t.fake.config.security_group_ids,
      httpTokens: 'required',
      clientToken: clientToken('vm', requestId, 0),
    });
    expect(Object.fromEntries(instance.tags)).toEqual({
      team: 'platform',
      'slipway.cluster': 'c-1',
      Name: `slipway/c-1/${input.env.instanceId}`,
      'slipway.agent_id': input.agentId,
      'slipway.request_id': requestId,
      'slipway.managed': 'true',
    });
    expect(created).toEqual({ vmId: instance.id, ip: input.network.ip, zone: 'us-east-1a' });
  });

  it('names the zones EC2 offers', async () => {
    expect(await t.driver.info()).toEqual({
      name: 'aws',
      apiVersion: 2,
      stemcellFormats: ['aws-light', 'aws-ebs-snapshot'],
      zones: ['us-east-1a', 'us-east-1b'],
    });
  });

  it("gives the VM an ephemeral EBS volume that dies with it, beside the AMI's root volume", async () => {
    const { vmId } = await t.driver.createVm(vmInput({ resources: { cpu: 2, memoryMb: 4096, ephemeralDiskMb: 5000 } }));
    const volumes = t.fake.state.volumesOf(vmId);
    expect(volumes.map((v) => [v.attachment!.device, v.size, v.attachment!.deleteOnTermination])).toEqual([
      ['/dev/sda1', 8, true],
      ['/dev/sdb', 5, true],
    ]);
    expect(t.fake.state.instances.get(vmId)!.instanceType).toBe('t3.medium');
    expect(await t.driver.getDisks({ vmId }), 'root and ephemeral volumes are not persistent disks').toEqual([]);
  });

  it("returns the same instance for a repeated request id, through EC2's ClientToken", async () => {
    const input = vmInput();
    const requestId = `task-42/step-create-vm/${'x'.repeat(80)}`;
    const before = t.fake.calls('RunInstances');
    const first = await t.driver.createVm(input, { requestId });
    const second = await t.driver.createVm(input, { requestId });
    expect(second.vmId).toBe(first.vmId);
    expect(t.fake.calls('RunInstances') - before, 'no lookup: EC2 answers the token itself').toBe(2);
    const token = t.fake.state.instances.get(first.vmId)!.clientToken!;
    expect(token.length).toBeLessThanOrEqual(64);
    expect([...t.fake.state.instances.values()].filter((i) => i.clientToken === token)).toHaveLength(1);
  });

  it('finds the instance of a RunInstances whose answer was lost', async () => {
    const input = vmInput();
    const requestId = randomUUID();
    t.fake.failNext('RunInstances', {
      code: 'InternalError',
      message: 'An internal error has occurred',
      lostAnswer: true,
    });
    const error = await failure(t.driver.createVm(input, { requestId }));
    expect(error).toMatchObject({ code: 'Retryable', retryable: true });
    const launched = [...t.fake.state.instances.values()].filter((i) => i.tags.get('slipway.request_id') === requestId);
    expect(launched, 'EC2 did launch it').toHaveLength(1);
    const again = await t.driver.createVm(input, { requestId });
    expect(again.vmId).toBe(launched[0]!.id);
  });

  it('launches anew for a request id whose instance terminated while launching', async () => {
    const input = vmInput();
    const requestId = randomUUID();
    t.fake.failNextLaunch();
    const error = await failure(t.driver.createVm(input, { requestId }));
    expect(error).toMatchObject({ code: 'CapacityExhausted', retryable: true });
    expect(error.message).toContain('Server.InsufficientInstanceCapacity: Insufficient capacity.');
    const dead = [...t.fake.state.instances.values()].find((i) => i.tags.get('slipway.request_id') === requestId)!;
    expect(dead.state).toBe('terminated');
    const retried = await t.driver.createVm(input, { requestId });
    expect(retried.vmId).not.toBe(dead.id);
    expect(t.fake.state.instances.get(retried.vmId)!.clientToken).toBe(clientToken('vm', requestId, 1));
    expect(await t.driver.hasVm({ vmId: retried.vmId })).toBe(true);
  });

  it("refuses the same request id with other parameters, keeping EC2's IdempotentParameterMismatch", async () => {
    const requestId = randomUUID();
    const env = placeholderSettings();
    await t.driver.createVm(vmInput({}, env), { requestId });
    const error = await failure(
      t.driver.createVm(vmInput({ cloudProperties: { instance_type: 'm5.large' } }, env), { requestId }),
    );
    expect(error.code).toBe('Conflict');
    expect(error.details).toMatchObject({ cloudCode: 'IdempotentParameterMismatch' });
    expect(error.hint).toContain('new requestId');
  });

  it('merges metadata into the instance tags', async () => {
    const { vmId } = await t.driver.createVm(vmInput(), { requestId: randomUUID() });
    await t.driver.setVmMetadata({ vmId, metadata: { 'slipway.instance': 'worker/3', 'slipway.cluster': 'c-2' } });
    expect(Object.fromEntries(t.fake.state.instances.get(vmId)!.tags)).toMatchObject({
      'slipway.instance': 'worker/3',
      'slipway.cluster': 'c-2',
      'slipway.agent_id': expect.any(String),
      team: 'platform',
    });
  });

  it('reboots in place', async () => {
    const { vmId } = await t.driver.createVm(vmInput());
    const before = t.fake.calls('RebootInstances');
    await t.driver.rebootVm!({ vmId });
    expect(t.fake.calls('RebootInstances')).toBe(before + 1);
    expect(t.fake.state.instances.get(vmId)!.state).toBe('running');
  });

  it('terminates, waits for terminated so the address is free, and keeps persistent disks', async () => {
    const input = vmInput();
    const { vmId } = await t.driver.createVm(input);
    const { diskId } = await t.driver.createDisk({ sizeMb: 1024, vmId });
    await t.driver.attachDisk({ vmId, diskId });
    await t.driver.deleteVm({ vmId });
    expect(t.fake.state.instances.get(vmId)!.state).toBe('terminated');
    expect(await t.driver.hasVm({ vmId })).toBe(false);
    expect(t.fake.state.volumes.get(diskId)).toMatchObject({ state: 'available', attachment: undefined });
    const reused = await t.driver.createVm(vmInput({ network: input.network }));
    expect(t.fake.state.instances.get(reused.vmId)!.privateIp).toBe(input.network.ip);
  });

  it('lists the instances and volumes carrying the tags, not terminated ones', async () => {
    const mark = randomUUID();
    const { vmId } = await t.driver.createVm(vmInput({ metadata: { 'slipway.cluster': mark } }));
    const gone = await t.driver.createVm(vmInput({ metadata: { 'slipway.cluster': mark } }));
    await t.driver.deleteVm({ vmId: gone.vmId });
    const { diskId } = await t.driver.createDisk({ sizeMb: 1500, vmId, metadata: { 'slipway.cluster': mark } });
    await t.driver.createVm(vmInput());
    const inventory = await t.driver.listResources!({ tags: { 'slipway.cluster': mark } });
    expect(inventory.vms.map((v) => [v.vmId, v.state])).toEqual([[vmId, 'running']]);
    expect(inventory.disks).toEqual([
      { diskId, metadata: expect.objectContaining({ 'slipway.cluster': mark }), sizeMb: 2048 },
    ]);
  });
});

describe('EC2 eventual consistency', () => {
  let t: DriverUnderTest;
  beforeAll(async () => {
    t = await startDriver();
  });
  afterEach(() => t.fake.faults.reset());
  afterAll(() => t.stop());

  it('launches through DescribeInstances not knowing the new instance yet', async () => {
    t.fake.setConsistencyLag(300);
    const before = t.fake.calls('DescribeInstances');
    const started = Date.now();
    const { vmId } = await t.driver.createVm(vmInput());
    expect(Date.now() - started, 'it waited out the lag').toBeGreaterThanOrEqual(250);
    expect(t.fake.calls('DescribeInstances') - before, 'NotFound answers were polled through').toBeGreaterThan(5);
    expect(await t.driver.hasVm({ vmId })).toBe(true);
  });

  it('says a new VM exists when a Describe right after createVm answers InvalidInstanceID.NotFound', async () => {
    const { vmId } = await t.driver.createVm(vmInput());
    t.fake.failNext('DescribeInstances', {
      code: 'InvalidInstanceID.NotFound',
      message: `The instance ID '${vmId}' does not exist`,
    });
    expect(await t.driver.hasVm({ vmId })).toBe(true);
    expect(
      await t.driver.hasVm({ vmId: 'i-0123456789abcdef0' }),
      'an instance this driver did not create is simply absent',
    ).toBe(false);
  });

  it('trusts NotFound for a new VM when the consistency window is 0', async () => {
    const strict = await startDriver({ config: { consistency_window_seconds: 0 } });
    try {
      const { vmId } = await strict.driver.createVm(vmInput());
      strict.fake.failNext('DescribeInstances', {
        code: 'InvalidInstanceID.NotFound',
        message: `The instance ID '${vmId}' does not exist`,
      });
      expect(await strict.driver.hasVm({ vmId })).toBe(false);
    } finally {
      await strict.stop();
    }
  });

  it('does not call an instance EC2 does not show yet deleted, and lists it', async () => {
    t.fake.setConsistencyLag(600);
    const controller = new AbortController();
    const input = vmInput({ metadata: { 'slipway.cluster': 'unseen' } });
    const requestId = randomUUID();
    // Abandon the launch while EC2 still answers NotFound: the driver knows the id, EC2 has not shown it.
    const call = t.driver.createVm(input, { requestId, signal: controller.signal });
    await sleep(100);
    controller.abort();
    expect((await failure(call)).code).toBe('Cancelled');
    const [instance] = [...t.fake.state.instances.values()].filter(
      (i) => i.tags.get('slipway.request_id') === requestId,
    );
    const vmId = instance!.id;
    expect(await t.driver.hasVm({ vmId })).toBe(true);
    const inventory = await t.driver.listResources!({ tags: { 'slipway.cluster': 'unseen' } });
    expect(inventory.vms).toEqual([
      { vmId, metadata: expect.objectContaining({ 'slipway.cluster': 'unseen' }), state: 'pending' },
    ]);
    const error = await failure(t.driver.deleteVm({ vmId }));
    expect(error).toMatchObject({ code: 'Retryable', retryable: true });
    expect(instance!.state, 'it was not terminated, nor reported gone').toBe('running');
    await sleep(600);
    await t.driver.deleteVm({ vmId });
    expect(instance!.state).toBe('terminated');
  });

  it('turns a NotFound on a call that acts on a new instance into Retryable', async () => {
    const { vmId } = await t.driver.createVm(vmInput());
    t.fake.failNext('CreateTags', {
      code: 'InvalidInstanceID.NotFound',
      message: `The instance ID '${vmId}' does not exist`,
    });
    const error = await failure(t.driver.setVmMetadata({ vmId, metadata: { a: 'b' } }));
    expect(error).toMatchObject({ code: 'Retryable', retryable: true });
    expect(error.message).toContain(`The instance ID '${vmId}' does not exist`);
    await t.driver.setVmMetadata({ vmId, metadata: { a: 'b' } });
  });
});

describe('EC2 errors', () => {
  let t: DriverUnderTest;
  beforeAll(async () => {
    t = await startDriver();
  });
  afterEach(() => t.fake.faults.reset());
  afterAll(() => t.stop());

  const cases = [
    { code: 'RequestLimitExceeded', message: 'Request limit exceeded.', expected: 'RateLimited', retryable: true },
    { code: 'InternalError', message: 'An internal error has occurred', expected: 'Retryable', retryable: true },
    {
      code: 'Unavailable',
      message: "The server is overloaded and can't handle the request.",
      expected: 'Retryable',
      retryable: true,
    },
    {
      code: 'InsufficientInstanceCapacity',
      message:
        'We currently do not have sufficient t3.micro capacity in the Availability Zone you requested (us-east-1a).',
      expected: 'CapacityExhausted',
      retryable: true,
    },
    {
      code: 'VcpuLimitExceeded',
      message: 'You have requested more vCPU capacity than your current vCPU limit of 32 allows.',
      expected: 'QuotaExceeded',
      retryable: false,
    },
    {
      code: 'UnauthorizedOperation',
      message: 'You are not authorized to perform this operation.',
      expected: 'CloudError',
      retryable: false,
    },
    {
      code: 'InvalidParameterValue',
      message: 'Value (t3.micro) for parameter instanceType is invalid. Nitro instances need ENA.',
      expected: 'VmCreationFailed',
      retryable: false,
    },
  ] as const;

  for (const c of cases) {
    it(`maps RunInstances ${c.code} to ${c.expected}, keeping EC2's message`, async () => {
      t.fake.failNext('RunInstances', { code: c.code, message: c.message });
      const error = await failure(t.driver.createVm(vmInput()));
      expect(error).toMatchObject({ code: c.expected, retryable: c.retryable, plugin: '@slipway/iaas-aws' });
      expect(error.message).toBe(`EC2 RunInstances: ${c.code}: ${c.message}`);
      expect(error.details).toMatchObject({
        operation: 'RunInstances',
        cloudCode: c.code,
        cloudMessage: c.message,
        cloudRequestId: expect.any(String),
      });
    });
  }

  it('maps the instance limit to QuotaExceeded and the volume limit too', async () => {
    t.fake.faults.setQuota({ vms: 0, disks: 0 });
    const vm = await failure(t.driver.createVm(vmInput()));
    expect(vm.code).toBe('QuotaExceeded');
    expect(vm.message).toContain(
      'InstanceLimitExceeded: You have requested more instances (1) than your current instance limit of 0',
    );
    const disk = await failure(t.driver.createDisk({ sizeMb: 1024 }));
    expect(disk.code).toBe('QuotaExceeded');
    expect(disk.message).toContain('VolumeLimitExceeded');
  });

  it('calls an AMI that does not exist a failed VM creation, not a missing VM', async () => {
    const error = await failure(t.driver.createVm(vmInput({ stemcellId: 'ami-0000000000000dead' })));
    expect(error.code).toBe('VmCreationFailed');
    expect(error.message).toContain("InvalidAMIID.NotFound: The image id '[ami-0000000000000dead]' does not exist");
  });

  it('calls an address still held by another instance a Conflict that clears', async () => {
    const input = vmInput();
    await t.driver.createVm(input);
    const error = await failure(t.driver.createVm(vmInput({ network: input.network })));
    expect(error).toMatchObject({ code: 'Conflict', retryable: true });
    expect(error.message).toContain(`Address ${input.network.ip} is in use.`);
  });

  it('calls an unreachable endpoint Retryable', async () => {
    const gone = await startDriver();
    await gone.fake.stop();
    const error = await failure(gone.driver.hasVm({ vmId: 'i-0123456789abcdef0' }));
    expect(error.code).toBe('Retryable');
    expect(error.message).toContain('cannot reach');
    await gone.driver.destroy();
    await gone.host.cleanup();
  });

  it('stops waiting at once when aborted while the instance is pending', async () => {
    const slow = await startDriver({ pendingMs: 10_000 });
    try {
      const controller = new AbortController();
      const call = slow.driver.createVm(vmInput(), { signal: controller.signal });
      await sleep(100);
      const abortedAt = Date.now();
      controller.abort();
      expect((await failure(call)).code).toBe('Cancelled');
      // A tenth of the operation it cut short: room for a loaded CI machine, far from waiting it out.
      expect(Date.now() - abortedAt).toBeLessThan(1_000);
    } finally {
      await slow.stop();
    }
  });
});

describe('SigV4 and credentials', () => {
  it("refuses a wrong secret key with EC2's SignatureDoesNotMatch", async () => {
    const t = await startDriver({ credentials: { secret_access_key: 'not-the-secret' } });
    try {
      const error = await failure(t.driver.hasVm({ vmId: 'i-0123456789abcdef0' }));
      expect(error).toMatchObject({ code: 'Unauthenticated', retryable: false });
      expect(error.message).toContain(
        'SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided.',
      );
    } finally {
      await t.stop();
    }
  });

  it('refuses an unknown access key with AuthFailure', async () => {
    const t = await startDriver({ credentials: { access_key_id: 'AKIAUNKNOWNKEY000000' } });
    try {
      const error = await failure(t.driver.createVm(vmInput()));
      expect(error.code).toBe('Unauthenticated');
      expect(error.message).toContain('AuthFailure: AWS was not able to validate the provided access credentials');
      expect(t.fake.state.instances.size).toBe(0);
    } finally {
      await t.stop();
    }
  });

  it('signs with the session token of temporary credentials', async () => {
    const t = await startDriver({ accessKey: { sessionToken: 'FwoGZXIvYXdzEXAMPLE' } });
    try {
      expect(await t.driver.hasVm({ vmId: 'i-0123456789abcdef0' })).toBe(false);
    } finally {
      await t.stop();
    }
  });

  it("answers unsigned and tampered requests with EC2's errors", async () => {
    const fake = await startFake({ bootAgents: false });
    try {
      const unsigned = await fetch(fake.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'Action=DescribeInstances&Version=2016-11-15',
      });
      expect(unsigned.status).toBe(401);
      expect(await unsigned.text()).toMatch(/<Response><Errors><Error><Code>MissingAuthenticationToken<\/Code>/);
      // A correctly signed request whose body changes after signing, as a man in the middle would change it.
      const client = new EC2Client({
        region: fake.region,
        endpoint: fake.url,
        maxAttempts: 1,
        credentials: { accessKeyId: fake.accessKey.accessKeyId, secretAccessKey: fake.accessKey.secretAccessKey },
      });
      client.middlewareStack.add(
        (next) => async (args) => {
          const request = args.request as { body?: unknown };
          if (typeof request.body === 'string') request.body = request.body.replace('MaxResults=5', 'MaxResults=6');
          return next(args);
        },
        { step: 'deserialize', priority: 'low', name: 'tamper' },
      );
      const error = await client
        .send(new DescribeInstancesCommand({ MaxResults: 5 }))
        .catch((e: unknown) => e as { name: string; message: string; $metadata: { httpStatusCode: number } });
      client.destroy();
      expect(error).toMatchObject({ name: 'SignatureDoesNotMatch', $metadata: { httpStatusCode: 403 } });
    } finally {
      await fake.stop();
    }
  });

  it('refuses a credential without the access key fields, naming them', async () => {
    const t = await startDriver();
    try {
      const { default: plugin } = await import('../src/index.js');
      await t.host.credentials.set(
        { name: '/slipway/iaas/broken', type: 'json', value: { access_key_id: 'AKIA' } },
        { actor: 'test' },
      );
      const error = await failure(plugin.create({ ...t.fake.config, credentials_ref: '/slipway/iaas/broken' }, t.host));
      expect(error.code).toBe('InvalidConfig');
      expect(error.message).toContain('missing: secret_access_key');
    } finally {
      await t.stop();
    }
  });
});

describe('the agent on an EC2 instance', () => {
  it('boots from IMDSv2 with the UserData the driver gave and reaches the control plane', async () => {
    const recorder = await AgentChannelRecorder.start();
    const t = await startDriver({ bootAgents: true });
    try {
      const settings = await recorder.settingsFor(`agent-${randomUUID()}`, { network: { ip: '10.9.0.10' } });
      const { vmId } = await t.driver.createVm(vmInput({}, settings));
      const heartbeat = await recorder.waitForSync(settings.agentId, 10_000);
      expect(heartbeat).toMatchObject({ agentId: settings.agentId, instanceId: settings.instanceId });
      expect(t.fake.calls('IMDS PUT /latest/api/token'), 'the agent asked for a session token').toBeGreaterThan(0);
      // The instance requires IMDSv2: a GET without a token is refused.
      const v1 = await fetch(`${t.fake.metadataUrl(vmId)}/latest/user-data`);
      expect(v1.status).toBe(401);
    } finally {
      await t.stop();
      await recorder.stop();
    }
  });
});

describe('the config schema', () => {
  it('names every wrong field at once', () => {
    const validate = new Ajv({ allErrors: true, useDefaults: true, strict: false }).compile(configSchema);
    expect(validate({ region: 'Ireland', subnet_id: 'net-1', volume_type: 'gp9', password: 'x' })).toBe(false);
    expect((validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message}`).sort()).toEqual([
      '(root) must NOT have additional properties',
      "(root) must have required property 'credentials_ref'",
      '/region must match pattern "^[a-z]{2}(-[a-z]+)+-\\d+$"',
      '/subnet_id must match pattern "^subnet-[0-9a-z]+$"',
      '/volume_type must be equal to one of the allowed values',
    ]);
  });
});
