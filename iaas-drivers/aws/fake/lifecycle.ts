import type { FakeContext } from './context.js';
import type { FakeInstance, FakeVolume } from './state.js';

/**
 * The state changes EC2 makes on its own, shared by the API handlers and the fault knobs: a launch that
 * settles, an instance that terminates and what that does to its volumes.
 */

/** pending -> running (and the agent boots), or pending -> terminated when a launch failure is queued. */
export function scheduleLaunch(ctx: FakeContext, instance: FakeInstance): void {
  const failure = ctx.launchFailures.shift();
  ctx.scheduler.later(ctx.timings.pendingMs, () => {
    if (instance.state !== 'pending') return;
    if (failure) {
      instance.stateReason = failure;
      instance.stateTransitionReason = `Server.${failure.code.replace(/^(Server|Client)\./, '')}`;
      finishTermination(ctx, instance);
      return;
    }
    instance.state = 'running';
    ctx.agents.boot(instance.id);
  });
}

/** A user-initiated TerminateInstances: shutting-down now, terminated a moment later. */
export function beginTermination(ctx: FakeContext, instance: FakeInstance): void {
  if (instance.state === 'shutting-down' || instance.state === 'terminated') return;
  instance.state = 'shutting-down';
  instance.stateTransitionReason = `User initiated (${new Date()
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' GMT')})`;
  instance.stateReason = {
    code: 'Client.UserInitiatedShutdown',
    message: 'Client.UserInitiatedShutdown: User initiated shutdown',
  };
  void ctx.agents.stop(instance.id);
  ctx.scheduler.later(ctx.timings.shuttingDownMs, () => finishTermination(ctx, instance));
}

/**
 * terminated: the agent is gone, DeleteOnTermination volumes are deleted, the others detached (a persistent
 * disk survives its VM). The instance stays visible for the retention time, then only its ClientToken knows it.
 */
export function finishTermination(ctx: FakeContext, instance: FakeInstance): void {
  if (instance.state === 'terminated') return;
  instance.state = 'terminated';
  instance.terminatedAt = Date.now();
  void ctx.agents.stop(instance.id);
  for (const volume of ctx.state.volumesOf(instance.id)) {
    if (volume.attachment!.deleteOnTermination) {
      volume.attachment = undefined;
      scheduleVolumeDeletion(ctx, volume);
    } else {
      volume.attachment = undefined;
      volume.state = 'available';
    }
  }
  ctx.scheduler.later(ctx.timings.terminatedRetentionMs, () => {
    if (ctx.state.instances.get(instance.id) !== instance) return;
    ctx.state.instances.delete(instance.id);
    ctx.state.purged.set(instance.id, instance);
  });
}

/** deleting -> gone (DescribeVolumes no longer knows it). */
export function scheduleVolumeDeletion(ctx: FakeContext, volume: FakeVolume): void {
  volume.state = 'deleting';
  ctx.scheduler.later(ctx.timings.volumeMs, () => {
    if (ctx.state.volumes.get(volume.id) !== volume) return;
    volume.state = 'deleted';
    ctx.state.volumes.delete(volume.id);
    ctx.state.purgedVolumes.set(volume.id, volume);
  });
}
