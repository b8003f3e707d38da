import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AgentChannelRecorder } from '@slipway/testkit/simulation';
import {
  ChildProcessRunner,
  FileCredentialStore,
  readProcStat,
  type JobCatalog,
  type ProcessSpec,
  type RunningProcess,
} from '../src/index.js';
import { allRunning, processOf, testAgent } from './support.js';

const SLEEPER = [
  process.execPath,
  ['-e', 'process.stdout.write("up\\n"); console.error("to stderr"); setInterval(() => {}, 1000)'],
] as const;

function spec(name: string, command: string = SLEEPER[0], args: string[] = [...SLEEPER[1]]): ProcessSpec {
  return { job: 'test', name, command, args };
}

function alive(pid: number): boolean {
  const state = readProcStat(pid)?.state;
  return state !== undefined && state !== 'Z' && state !== 'X';
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('ChildProcessRunner', () => {
  let dir: string;
  const started: RunningProcess[] = [];
  const runner = (options: Partial<ConstructorParameters<typeof ChildProcessRunner>[0]> = {}) =>
    new ChildProcessRunner({ runDir: join(dir, 'run'), logDir: join(dir, 'log'), adoptedPollMs: 50, ...options });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'runner-'));
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((p) => p.stop(100)));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs a process as the leader of its own group, its output in its log file', async () => {
    const process1 = await runner().start(spec('leader'));
    started.push(process1);
    expect(readProcStat(process1.pid)!.pgid, 'its own process group').toBe(process1.pid);
    await until(
      () => readFileSync(join(dir, 'log/test/leader.log'), 'utf8').includes('to stderr'),
      5_000,
      'output logged',
    );
    expect(readFileSync(join(dir, 'log/test/leader.log'), 'utf8')).toContain('up\n');
    expect(statSync(join(dir, 'run/leader.pid.json')).mode & 0o777).toBe(0o600);
  });

  it('stop() ends the whole tree the process spawned', async () => {
    const shell = await runner().start({
      ...spec('tree', '/bin/sh', ['-c', 'sleep 300 & echo $! > child.pid; sleep 300']),
      cwd: dir,
    });
    const childFile = join(dir, 'child.pid');
    try {
      await until(
        () => {
          try {
            return readFileSync(childFile, 'utf8').trim().length > 0;
          } catch {
            return false;
          }
        },
        5_000,
        'grandchild started',
      );
      const grandchild = Number(readFileSync(childFile, 'utf8'));
      expect(alive(grandchild)).toBe(true);
      await shell.stop(2_000);
      await until(() => !alive(grandchild), 2_000, 'grandchild gone');
      expect(alive(shell.pid)).toBe(false);
    } finally {
      rmSync(childFile, { force: true });
    }
  });

  it('a new runner adopts a live process from its pid file and sees it exit', async () => {
    const original = await runner().start(spec('adoptee'));
    const adopted = await runner().list();
    expect(adopted.map((a) => [a.spec.name, a.process.pid])).toEqual([['adoptee', original.pid]]);
    process.kill(original.pid, 'SIGKILL');
    const exit = await adopted[0]!.process.exited;
    expect(exit).toEqual({ code: null, signal: null });
    expect(await runner().list(), 'the pid file went with the process').toEqual([]);
  });

  it('does not adopt a pid that now names another process', async () => {
    const live = await runner().start(spec('reused'));
    started.push(live);
    const file = join(dir, 'run/reused.pid.json');
    const record = JSON.parse(readFileSync(file, 'utf8')) as { startTime: number };
    // Same pid, other start time: what a pid file looks like after the pid was reused by an unrelated process.
    writeFileSync(file, JSON.stringify({ ...record, startTime: record.startTime - 1 }));
    expect(await runner().list()).toEqual([]);
    expect(() => statSync(file), 'the stale pid file is removed').toThrow();
    expect(alive(live.pid), 'and the unrelated process is left alone').toBe(true);
  });

  it('caps a log file: past the limit it is copied to .1 and truncated, the process writing on', async () => {
    const capped = runner({ logMaxBytes: 10_000 });
    const chatty = await capped.start(
      spec('chatty', process.execPath, ['-e', 'setInterval(() => process.stdout.write("x".repeat(1000) + "\\n"), 5)']),
    );
    started.push(chatty);
    const log = join(dir, 'log/test/chatty.log');
    await until(() => statSync(log).size > 20_000, 5_000, 'log grows');
    const restarted = new ChildProcessRunner({
      runDir: join(dir, 'run'),
      logDir: join(dir, 'log'),
      logMaxBytes: 10_000,
    });
    await restarted.list();
    const cap = (restarted as unknown as { logs: { enforce(): string[] } }).logs;
    expect(cap.enforce()).toEqual([log]);
    expect(statSync(`${log}.1`).size).toBeGreaterThan(10_000);
    expect(statSync(log).size).toBeLessThan(10_000);
    await until(() => statSync(log).size > 0, 2_000, 'the process writes on into the truncated file');
    restarted.close();
  });
});

describe('Agent with real processes', () => {
  let recorder: AgentChannelRecorder;
  let dir: string;

  beforeAll(async () => {
    recorder = await AgentChannelRecorder.start();
    dir = mkdtempSync(join(tmpdir(), 'agent-real-'));
  });
  afterAll(async () => {
    await recorder.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a restarted agent adopts its running processes through pid files, then supervises them again', async () => {
    const catalog: JobCatalog = { processes: (job) => job.processes.map((name) => ({ ...spec(name), job: job.name })) };
    const runnerOf = () =>
      new ChildProcessRunner({ runDir: join(dir, 'run'), logDir: join(dir, 'log'), adoptedPollMs: 50 });
    const settings = await recorder.settingsFor('real-1', { heartbeatIntervalMs: 10_000 });
    // The VM's identity directory: the restarted agent reuses the key and certificate, its token is spent.
    const credentials = new FileCredentialStore(join(dir, 'identity'));
    const first = testAgent(settings, runnerOf(), { jobCatalog: catalog, credentials });
    await first.start();
    const before = await recorder.waitForHeartbeat(
      'real-1',
      (hb) => allRunning(hb) && hb.appliedGeneration === 1,
      10_000,
    );
    await first.detach();

    const second = testAgent(settings, runnerOf(), { jobCatalog: catalog, credentials });
    await second.start();
    try {
      const seen = recorder.heartbeats('real-1').length;
      const after = await recorder.waitForHeartbeat(
        'real-1',
        (hb) => recorder.heartbeats('real-1').length > seen && allRunning(hb) && hb.appliedGeneration === 1,
        10_000,
      );
      for (const name of ['containerd', 'kubelet', 'kube-proxy']) {
        expect(processOf(after, name)!.pid, `${name} kept its pid`).toBe(processOf(before, name)!.pid);
        expect(processOf(after, name)!.restarts).toBe(0);
        expect(alive(processOf(after, name)!.pid!)).toBe(true);
      }
      // Not its child, still supervised: a kill is noticed and the process restarted.
      process.kill(processOf(after, 'kubelet')!.pid!, 'SIGKILL');
      const restarted = await recorder.waitForHeartbeat(
        'real-1',
        (hb) => processOf(hb, 'kubelet')?.restarts === 1 && processOf(hb, 'kubelet')?.state === 'running',
        10_000,
      );
      expect(processOf(restarted, 'kubelet')!.pid).not.toBe(processOf(after, 'kubelet')!.pid);
    } finally {
      await second.stop();
    }
    const pids = ['containerd', 'kubelet', 'kube-proxy'].map((n) => processOf(before, n)!.pid!);
    await until(() => pids.every((pid) => !alive(pid)), 5_000, 'stop() ends the processes');
  }, 30_000);
});
