import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FakeFaults, StartedFake } from '@slipway/simulation';
import { createQuietLogger } from '@slipway/simulation';
import { SandboxCloud } from './cloud.js';
import type { SandboxConfig } from './config.js';
import { SandboxIaasDriver } from './driver.js';

/**
 * The sandbox as its own "fake": a fresh simulated cloud in a temp dir, with the generic fault knobs
 * mapped onto it, so the conformance suite runs against it like against any driver's fake.
 */
export async function startFake(): Promise<StartedFake<SandboxConfig>> {
  const dir = mkdtempSync(join(tmpdir(), 'sandbox-fake-'));
  const config: SandboxConfig = { state_file: join(dir, 'sandbox.json') };
  const cloud = SandboxCloud.open(config.state_file!, createQuietLogger(), 0);
  const operator = new SandboxIaasDriver(cloud, config);
  const queue = (
    verb: string,
    code: 'RateLimited' | 'Retryable' | 'CloudError',
    message: string | undefined,
    count = 1,
  ) => operator.rehearsal.failNext(verb, { code, message }, count);
  const faults: FakeFaults = {
    throttleNext: (verb, count) => queue(verb, 'RateLimited', `${verb}: request limit exceeded`, count),
    serverErrorNext: (verb, count) => queue(verb, 'Retryable', `${verb}: internal server error`, count),
    permanentErrorNext: (verb, count) => {
      const message = `${verb}: InvalidParameterValue: the image is not usable`;
      queue(verb, 'CloudError', message, count);
      return message;
    },
    setFaultRates: (rates) => {
      cloud.faults.rates = { throttle: rates.throttle ?? 0, serverError: rates.serverError ?? 0 };
    },
    setLatency: (ms) => {
      cloud.faults.latencyMs = ms;
    },
    killVm: (vmId) => operator.killVm(vmId),
    setQuota: (quota) => {
      cloud.faults.quota = { ...quota };
    },
    reset: () => {
      cloud.faults.queued.clear();
      cloud.faults.latencyMs = 0;
      cloud.faults.rates = { throttle: 0, serverError: 0 };
      cloud.faults.quota = {};
    },
  };
  return {
    config,
    faults,
    async stop() {
      await operator.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
