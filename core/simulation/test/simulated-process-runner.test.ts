import { describe, expect, it } from 'vitest';
import { SimulatedProcessRunner } from '../src/index.js';

const spec = (name: string) => ({ job: name, name, command: name, args: ['--v=2'] });

describe('SimulatedProcessRunner', () => {
  it('gives each start a new pid and lists what runs', async () => {
    const runner = new SimulatedProcessRunner();
    const etcd = await runner.start(spec('etcd'));
    const kubelet = await runner.start(spec('kubelet'));
    expect(kubelet.pid).toBeGreaterThan(etcd.pid);
    expect((await runner.list()).map((p) => [p.spec.name, p.process.pid])).toEqual([
      ['etcd', etcd.pid],
      ['kubelet', kubelet.pid],
    ]);
    await runner.stopAll();
    expect(await runner.list()).toEqual([]);
  });

  it('kill(name) makes the process exit with the code given, and it leaves the list', async () => {
    const runner = new SimulatedProcessRunner();
    const process = await runner.start(spec('kube-proxy'));
    expect(runner.kill('kube-proxy', 137)).toBe(true);
    expect(await process.exited).toEqual({ code: 137, signal: null });
    expect(runner.kill('kube-proxy')).toBe(false);
    expect(await runner.list()).toEqual([]);
  });

  it('stop() ends a process with SIGTERM and records the order', async () => {
    const runner = new SimulatedProcessRunner();
    const a = await runner.start(spec('a'));
    await runner.start(spec('b'));
    await a.stop(1_000);
    expect(await a.exited).toEqual({ code: null, signal: 'SIGTERM' });
    expect(runner.events.map((e) => `${e.type}:${e.name}`)).toEqual(['start:a', 'start:b', 'stop:a', 'exit:a']);
    await runner.stopAll();
  });

  it('takes the configured time to start', async () => {
    const runner = new SimulatedProcessRunner({ startDelayMs: 60 });
    const started = Date.now();
    await runner.start(spec('etcd'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    await runner.stopAll();
  });

  it('fails starts of a process told to, until allowed again', async () => {
    const runner = new SimulatedProcessRunner();
    runner.failStarts('etcd', 'binary etcd not found on PATH');
    await expect(runner.start(spec('etcd'))).rejects.toThrow('binary etcd not found on PATH');
    runner.allowStart('etcd');
    await runner.start(spec('etcd'));
    expect(runner.startCount('etcd')).toBe(1);
    await runner.stopAll();
  });
});
