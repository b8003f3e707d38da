import {
  Agent,
  MemoryCredentialStore,
  PersistentDisk,
  type AgentCredentialStore,
  type AgentOptions,
} from '@slipway/agent';
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
  agent?: Omit<AgentOptions, 'metadata' | 'runner' | 'logger' | 'credentials'>;
  /**
   * Where the agent keeps its key and certificate: the VM's disk. Pass the same store when the VM's agent
   * boots again (a reboot), so it does not need its spent bootstrap token. Default: a new one in memory.
   */
  credentials?: AgentCredentialStore;
  /**
   * The VM's store directory: the agent mounts its persistent disk there (the directory the metadata source's
   * `locateDisk` names, linked) before any job starts, and reports it in its heartbeats. Without it no disk is
   * mounted.
   */
  storeDir?: string;
}

/** How often a simulated agent looks again for a disk that is not attached yet: the cloud attaches it after boot. */
const DISK_POLL_MS = 50;

/**
 * Starts the real @slipway/agent in-process with the simulated process runner, reading its settings through
 * `metadata` (a driver's own agent-side metadata reader pointed at its fake, so the user-data path is real).
 * Resolves once the agent has read its settings and runs its sync loop.
 */
export async function bootSimulatedAgent(
  metadata: MetadataSource,
  options: BootSimulatedAgentOptions = {},
): Promise<SimulatedAgent> {
  const runner = options.runner ?? new SimulatedProcessRunner();
  const storeDir = options.storeDir;
  const disk: AgentOptions['disk'] = storeDir
    ? (deps) =>
        new PersistentDisk({
          metadata: deps.metadata,
          storeDir,
          logger: deps.logger,
          clock: deps.clock,
          pollMs: DISK_POLL_MS,
        })
    : options.agent?.disk;
  const credentials = options.credentials ?? new MemoryCredentialStore();
  const agent = new Agent({
    ...options.agent,
    disk,
    metadata,
    runner,
    credentials,
    logger: options.logger ?? createQuietLogger(),
  });
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
