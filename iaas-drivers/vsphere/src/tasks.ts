import { SlipwayError, assertNever, type Clock } from '@slipway/contracts';
import { readTaskInfo, type TaskState } from './decode.js';
import { PLUGIN, faultToError, readTaskFault, type PermanentCode } from './errors.js';
import { sleep } from './signals.js';
import type { MoRef } from './soap.js';
import type { Vim } from './vim.js';
import type { XmlElement } from './xml.js';

/** How a task is waited for: the host's clock and the longest interval between two polls. */
export interface TaskWaitOptions {
  clock: Clock;
  maxIntervalMs: number;
  signal?: AbortSignal;
  /** The verb's own code for a task that ends in a permanent error. */
  permanent?: PermanentCode;
}

/**
 * Polls a vCenter Task's `info` through the PropertyCollector until it is `success` (returns `info.result`)
 * or `error` (throws its fault, mapped). Most tasks of this driver finish in well under a second, so the
 * first polls come after 25 ms and the interval doubles up to `maxIntervalMs`. Following a task is not a
 * retry; there is no deadline here because the engine bounds every call with its signal.
 */
export async function waitForTask(
  vim: Vim,
  task: MoRef,
  method: string,
  options: TaskWaitOptions,
): Promise<XmlElement | undefined> {
  let interval = Math.min(25, options.maxIntervalMs);
  for (;;) {
    await sleep(options.clock, interval, method, options.signal);
    const props = await vim.propertiesOf(task, ['info'], { signal: options.signal });
    if (!props) {
      // vCenter keeps finished tasks for a while; one gone this fast means vCenter restarted under us.
      throw new SlipwayError(
        'Retryable',
        `vSphere task ${task.value} of ${method} disappeared before it finished (vCenter restarted?)`,
        { plugin: PLUGIN },
      );
    }
    const info = readTaskInfo(props.get('info'));
    const state: TaskState = info.state;
    switch (state) {
      case 'success':
        return info.result;
      case 'error':
        throw faultToError(readTaskFault(info.error, info.name ?? method), options.permanent);
      case 'queued':
      case 'running':
        break;
      default:
        assertNever(state, 'task state');
    }
    interval = Math.min(interval * 2, options.maxIntervalMs);
  }
}
