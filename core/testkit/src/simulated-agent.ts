import { Agent, type AgentOptions } from '@slipway/agent';
import type { Logger, MetadataSource } from '@slipway/contracts';
import { createQuietLogger } from './quiet-logger.js';
import { SimulatedProcessRunner } from './simulated-process-runner.js';

/** The node agent of a simulated VM, running in-process. */
export interface SimulatedAgent {
  readonly agentId: string;
  readonly runner: SimulatedProcessRunner;
  /** The real agent, for tests that look inside. */
  readonly agent: Agent;
  /** Stops the agent and every process (the VM is gone). Safe to call twice, and after `hang()`. */
  stop(): Promise<void>;
  /** The agent stops syncing (an unresponsive agent); the VM and its processes keep existing. */
  hang(): void;
}

export interface BootSimulatedAgentOptions {
  logger?: Logger;
  /** The VM's processes; pass the runner of an earlier agent to simulate an agent restart. */
  runner?: SimulatedProcessRunner;
  /** Supervision, backoff and timeout settings passed to the Agent. */
  agent?: Omit<AgentOptions, 'metadata' | 'runner' | 'logger'>;
}

/**
 * Starts the real @slipway/agent in-process with the simulated process runner, reading its settings through
 * `metadata` (a driver's own agent-side metadata reader pointed at its fake, so the user-data path is real).
 * Resolves once the agent has read its settings and runs its sync loop.
 */
export async function bootSimulatedAgent(metadata: MetadataSource, options: BootSimulatedAgentOptions = {}): Promise<SimulatedAgent> {
  const runner = options.runner ?? new SimulatedProcessRunner();
  const agent = new Agent({ ...options.agent, metadata, runner, logger: options.logger ?? createQuietLogger() });
  const settings = await agent.start();
  let hung: Promise<void> | undefined;
  let stopped: Promise<void> | undefined;
  return {
    agentId: settings.agentId,
    runner,
    agent,
    hang(): void {
      hung ??= agent.detach();
    },
    stop(): Promise<void> {
      stopped ??= (async () => {
        if (hung) {
          await hung;
          await runner.stopAll();
        } else {
          await agent.stop();
        }
      })();
      return stopped;
    },
  };
}
