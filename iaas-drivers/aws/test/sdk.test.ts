import {
  AttachVolumeCommand,
  CreateTagsCommand,
  CreateVolumeCommand,
  DescribeInstancesCommand,
  DescribeVolumesCommand,
  EC2Client,
  EC2ServiceException,
  RunInstancesCommand,
  TerminateInstancesCommand,
  paginateDescribeInstances,
  waitUntilInstanceRunning,
  waitUntilInstanceTerminated,
  waitUntilVolumeAvailable,
  waitUntilVolumeInUse,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_BASE_AMI_ID, startFake, type AwsFake } from '../fake/index.js';

/**
 * The fake driven by the official AWS SDK v3 alone, with its own waiters, paginator, error classes and retry
 * strategy: what real AWS clients expect of EC2's wire protocol, the fake answers.
 */
describe('the official AWS SDK against the fake', () => {
  let fake: AwsFake;
  let ec2: EC2Client;
  const waiter = () => ({ client: ec2, maxWaitTime: 10, minDelay: 0.1, maxDelay: 0.2 });

  beforeAll(async () => {
    fake = await startFake({ bootAgents: false });
    ec2 = new EC2Client({
      region: fake.region,
      endpoint: fake.url,
      maxAttempts: 1,
      credentials: { accessKeyId: fake.accessKey.accessKeyId, secretAccessKey: fake.accessKey.secretAccessKey },
    });
  });
  afterAll(async () => {
    ec2.destroy();
    await fake.stop();
  });

  it("launches, waits, attaches, pages and terminates with the SDK's waiters", async () => {
    const launched = await ec2.send(
      new RunInstancesCommand({
        ImageId: FAKE_BASE_AMI_ID,
        InstanceType: 't3.micro',
        MinCount: 3,
        MaxCount: 3,
        SubnetId: fake.config.subnet_id,
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'suite', Value: 'sdk' }] }],
      }),
    );
    const ids = launched.Instances!.map((i) => i.InstanceId!);
    expect(ids).toHaveLength(3);
    expect(launched.Instances![0]).toMatchObject({
      State: { Code: 0, Name: 'pending' },
      ImageId: FAKE_BASE_AMI_ID,
      Placement: { AvailabilityZone: 'us-east-1a' },
    });
    expect(launched.Instances![0]!.LaunchTime).toBeInstanceOf(Date);
    expect((await waitUntilInstanceRunning(waiter(), { InstanceIds: ids })).state).toBe('SUCCESS');

    const volume = await ec2.send(
      new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 4, VolumeType: 'gp3' }),
    );
    expect(volume).toMatchObject({ State: 'creating', Size: 4, Iops: 3000, Encrypted: false });
    await waitUntilVolumeAvailable(waiter(), { VolumeIds: [volume.VolumeId!] });
    const attachment = await ec2.send(
      new AttachVolumeCommand({ VolumeId: volume.VolumeId!, InstanceId: ids[0]!, Device: '/dev/sdf' }),
    );
    expect(attachment).toMatchObject({ State: 'attaching', Device: '/dev/sdf' });
    await waitUntilVolumeInUse(waiter(), { VolumeIds: [volume.VolumeId!] });
    const described = await ec2.send(
      new DescribeVolumesCommand({
        Filters: [
          { Name: 'attachment.instance-id', Values: [ids[0]!] },
          { Name: 'attachment.device', Values: ['/dev/sd?'] },
        ],
      }),
    );
    expect(described.Volumes!.map((v) => [v.VolumeId, v.State, v.Attachments![0]!.Device])).toEqual([
      [volume.VolumeId, 'in-use', '/dev/sdf'],
    ]);

    await ec2.send(new CreateTagsCommand({ Resources: [ids[1]!], Tags: [{ Key: 'role', Value: 'worker' }] }));
    const pages: string[][] = [];
    for await (const page of paginateDescribeInstances(
      { client: ec2, pageSize: 5 },
      { Filters: [{ Name: 'tag:suite', Values: ['sdk'] }] },
    )) {
      pages.push((page.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId!));
    }
    expect(pages.flat().sort()).toEqual([...ids].sort());
    const tagged = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [ids[1]!] }));
    expect(tagged.Reservations![0]!.Instances![0]!.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'role', Value: 'worker' },
        { Key: 'suite', Value: 'sdk' },
      ]),
    );
    const running = tagged.Reservations![0]!.Instances![0]!;
    expect(running.BlockDeviceMappings![0]).toMatchObject({
      DeviceName: '/dev/sda1',
      Ebs: { Status: 'attached', DeleteOnTermination: true },
    });
    expect(running.MetadataOptions).toMatchObject({ HttpTokens: 'required', HttpEndpoint: 'enabled' });

    const terminated = await ec2.send(new TerminateInstancesCommand({ InstanceIds: ids }));
    expect(terminated.TerminatingInstances![0]).toMatchObject({
      CurrentState: { Name: 'shutting-down' },
      PreviousState: { Name: 'running' },
    });
    expect((await waitUntilInstanceTerminated(waiter(), { InstanceIds: ids })).state).toBe('SUCCESS');
  });

  it("raises EC2's error codes as the SDK's service exceptions", async () => {
    const error = await ec2
      .send(new DescribeInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EC2ServiceException);
    expect(error).toMatchObject({
      name: 'InvalidInstanceID.NotFound',
      message: "The instance ID 'i-0123456789abcdef0' does not exist",
      $fault: 'client',
      $metadata: { httpStatusCode: 400, requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) },
    });
    fake.failNext('DescribeInstances', { code: 'InternalError', message: 'An internal error has occurred' });
    expect(await ec2.send(new DescribeInstancesCommand({})).catch((e: unknown) => e)).toMatchObject({
      name: 'InternalError',
      $fault: 'server',
    });
  });

  it("is retried by the SDK's standard retry strategy on RequestLimitExceeded, as EC2 is", async () => {
    const retrying = new EC2Client({
      region: fake.region,
      endpoint: fake.url,
      maxAttempts: 3,
      retryMode: 'standard',
      credentials: { accessKeyId: fake.accessKey.accessKeyId, secretAccessKey: fake.accessKey.secretAccessKey },
    });
    try {
      fake.failNext('DescribeInstances', { code: 'RequestLimitExceeded', message: 'Request limit exceeded.' });
      const before = fake.calls('DescribeInstances');
      const answer = await retrying.send(new DescribeInstancesCommand({}));
      expect(answer.$metadata.attempts, 'the SDK saw a throttling error and sent the call again').toBe(2);
      expect(fake.calls('DescribeInstances') - before).toBe(2);
    } finally {
      retrying.destroy();
    }
  });
});
