/**
 * Per-call cost of the driver against a zero-latency fake, next to what it is made of: a bare HTTP round trip to
 * the fake, and the same EC2 call through the AWS SDK alone. Figures, not pass/fail.
 *
 *   npx tsc -b iaas-drivers/aws && node iaas-drivers/aws/dist/bench/overhead.js [iterations]
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DescribeInstancesCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { encodeAgentSettings } from '@slipway/contracts';
import type { AgentSettings } from '@slipway/contracts';
import { createTestHost } from '@slipway/testkit/simulation';
import plugin from '../src/index.js';
import { FAKE_BASE_AMI_ID, startFake } from '../fake/index.js';

const iterations = Number(process.argv[2] ?? 2000);

async function measure(name: string, count: number, call: (i: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < Math.min(100, count); i++) await call(i);
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await call(i);
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!;
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  console.log(
    `${name.padEnd(44)} n=${String(count).padStart(5)}  median ${at(0.5).toFixed(3).padStart(7)} ms  p99 ${at(0.99).toFixed(3).padStart(7)} ms  mean ${mean.toFixed(3).padStart(7)} ms`,
  );
}

function settings(index: number): AgentSettings {
  return {
    agentId: `agent-${randomUUID()}`,
    clusterId: 'bench',
    instanceId: `worker-${index}`,
    group: 'worker',
    index,
    controlPlane: { url: 'https://127.0.0.1:9', caPem: 'x'.repeat(1200) },
    bootstrap: { token: 'x'.repeat(62), expiresAt: '2099-01-01T00:00:00.000Z' },
    network: { ip: `10.${Math.floor(index / 60000) + 100}.${Math.floor(index / 250) % 240}.${(index % 250) + 4}` },
    heartbeatIntervalMs: 1000,
  };
}

async function main(): Promise<void> {
  const fake = await startFake({ bootAgents: false, pendingMs: 0, volumeMs: 0, shuttingDownMs: 0 });
  const host = await createTestHost({ credentials: fake.credentials });
  const driver = await plugin.create({ ...fake.config, poll_interval_ms: 1 }, host);
  const sdk = new EC2Client({
    region: fake.region,
    endpoint: fake.url,
    maxAttempts: 1,
    credentials: { accessKeyId: fake.accessKey.accessKeyId, secretAccessKey: fake.accessKey.secretAccessKey },
  });
  try {
    const { vmId } = await driver.createVm({
      agentId: 'bench',
      stemcellId: `${FAKE_BASE_AMI_ID} light`,
      resources: { cpu: 1, memoryMb: 512, ephemeralDiskMb: 0 },
      network: { ip: '10.250.0.4' },
      env: settings(0),
    });
    console.log(
      `node ${process.version}, ${iterations} iterations, fake at ${fake.url.replace(/:\d+$/, ':PORT')} (zero latency, no agents)`,
    );
    await measure('HTTP round trip to the fake (unsigned POST)', iterations, () =>
      fetch(fake.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'Action=DescribeInstances&Version=2016-11-15',
      }).then((r) => r.text()),
    );
    await measure('SDK DescribeInstances (one id)', iterations, () =>
      sdk.send(new DescribeInstancesCommand({ InstanceIds: [vmId] })),
    );
    await measure('driver.hasVm', iterations, () => driver.hasVm({ vmId }));
    const creates = Math.max(50, Math.floor(iterations / 5));
    let n = 1;
    await measure('SDK RunInstances (same parameters)', creates, () => {
      n += 1;
      const env = settings(n);
      return sdk.send(
        new RunInstancesCommand({
          ImageId: FAKE_BASE_AMI_ID,
          InstanceType: 't3.micro',
          MinCount: 1,
          MaxCount: 1,
          UserData: encodeAgentSettings(env),
          ClientToken: randomUUID(),
          PrivateIpAddress: env.network.ip,
          SubnetId: fake.config.subnet_id,
          SecurityGroupIds: fake.config.security_group_ids,
          MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled' },
          TagSpecifications: [
            {
              ResourceType: 'instance',
              Tags: [
                { Key: 'Name', Value: `slipway/bench/${env.instanceId}` },
                { Key: 'slipway.agent_id', Value: env.agentId },
              ],
            },
          ],
        }),
      );
    });
    await measure('driver.createVm (RunInstances + Describe)', creates, () => {
      n += 1;
      const env = settings(n);
      return driver.createVm(
        {
          agentId: env.agentId,
          stemcellId: `${FAKE_BASE_AMI_ID} light`,
          resources: { cpu: 1, memoryMb: 512, ephemeralDiskMb: 0 },
          network: env.network,
          env,
        },
        { requestId: randomUUID() },
      );
    });
    await measure('driver.createDisk (CreateVolume + Describe)', creates, () =>
      driver.createDisk({ sizeMb: 1024 }, { requestId: randomUUID() }),
    );
    console.log(
      `EC2 requests served: RunInstances ${fake.calls('RunInstances')}, DescribeInstances ${fake.calls('DescribeInstances')}, CreateVolume ${fake.calls('CreateVolume')}, DescribeVolumes ${fake.calls('DescribeVolumes')}`,
    );
  } finally {
    sdk.destroy();
    await driver.destroy();
    await fake.stop();
    await host.cleanup();
  }
}

await main();
