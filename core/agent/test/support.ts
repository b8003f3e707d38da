import type { AgentSettings, Heartbeat, MetadataSource } from '@slipway/contracts';
import { createQuietLogger } from '@slipway/testkit/simulation';
import { Agent, type AgentOptions, type ProcessRunner } from '../src/index.js';

/** A metadata source handing out fixed settings, as a cloud's user data would. */
export function fixedMetadata(settings: AgentSettings): MetadataSource {
  return { kind: 'test', readSettings: async () => settings };
}

/** An agent with fast backoffs, logging quietly. */
export function testAgent(settings: AgentSettings, runner: ProcessRunner, options: Partial<AgentOptions> = {}): Agent {
  return new Agent({
    metadata: fixedMetadata(settings),
    runner,
    logger: createQuietLogger(),
    syncBackoff: { baseMs: 20, maxMs: 200 },
    ...options,
    supervision: { backoffBaseMs: 20, backoffMaxMs: 200, stopGraceMs: 100, ...options.supervision },
  });
}

export function processStates(heartbeat: Heartbeat): Record<string, string> {
  return Object.fromEntries(heartbeat.jobs.flatMap((job) => job.processes.map((p) => [p.name, p.state])));
}

export function allRunning(heartbeat: Heartbeat): boolean {
  const processes = heartbeat.jobs.flatMap((job) => job.processes);
  return processes.length > 0 && processes.every((p) => p.state === 'running');
}

export function processOf(heartbeat: Heartbeat, name: string) {
  return heartbeat.jobs.flatMap((job) => job.processes).find((p) => p.name === name);
}
