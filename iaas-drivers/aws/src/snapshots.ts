import type { Snapshot } from '@aws-sdk/client-ec2';
import { SlipwayError, assertNever, throwIfAborted, type CallOptions } from '@slipway/contracts';
import { pollOptions, type AwsContext } from './context.js';
import { PLUGIN } from './errors.js';
import { MANAGED_TAG, REQUEST_ID_TAG, tagList, tagRecord } from './naming.js';
import { pollUntil } from './poll.js';
import { notVisibleYet } from './vms.js';

/** The snapshot verbs on EBS snapshots. */
export class SnapshotOperations {
  constructor(private readonly ctx: AwsContext) {}

  /**
   * CreateSnapshot has no ClientToken, so the request id goes into a tag and a repeat finds the snapshot with
   * DescribeSnapshots `tag:slipway.request_id`. Window: EC2's tag index is eventually consistent, so a repeat
   * within seconds of the first call may miss it and make a second snapshot (an extra copy, never a lost one).
   * Waits until the snapshot is `completed`, as BOSH's CPI does: only then is it independent of the volume.
   */
  async create(
    diskId: string,
    metadata: Record<string, string> | undefined,
    options: CallOptions = {},
  ): Promise<{ snapshotId: string }> {
    const { signal, requestId } = options;
    throwIfAborted(signal);
    if (requestId) {
      const existing = (
        await this.ctx.ec2.describeSnapshots([{ Name: `tag:${REQUEST_ID_TAG}`, Values: [requestId] }], { signal })
      ).find((s) => s.State !== 'error');
      if (existing) return { snapshotId: (await this.waitCompleted(existing.SnapshotId!, signal)).SnapshotId! };
    }
    const tags = tagList(this.ctx.config.default_tags, metadata, {
      [REQUEST_ID_TAG]: requestId,
      [MANAGED_TAG]: 'true',
      'slipway.volume_id': diskId,
    });
    const snapshot = await this.ctx.ec2.createSnapshot(
      {
        VolumeId: diskId,
        Description: `slipway snapshot of ${diskId}`,
        TagSpecifications: [{ ResourceType: 'snapshot', Tags: tags }],
      },
      { signal, permanent: 'DiskError' },
    );
    this.ctx.recent.remember(snapshot.SnapshotId!, tagRecord(tags));
    return { snapshotId: (await this.waitCompleted(snapshot.SnapshotId!, signal)).SnapshotId! };
  }

  /** DeleteSnapshot; already gone is success. A snapshot an AMI still uses is refused by EC2 (`Conflict`). */
  async delete(snapshotId: string, options: CallOptions = {}): Promise<void> {
    const found = await this.ctx.ec2.deleteSnapshot(snapshotId, { signal: options.signal, permanent: 'DiskError' });
    if (!found && this.ctx.recent.isUnseen(snapshotId)) throw notVisibleYet('snapshot', snapshotId, 'delete');
    this.ctx.recent.forget(snapshotId);
  }

  private async waitCompleted(snapshotId: string, signal?: AbortSignal): Promise<Snapshot> {
    return pollUntil(
      async () => {
        const snapshot = await this.ctx.ec2.describeSnapshot(snapshotId, { signal });
        if (!snapshot) {
          if (this.ctx.recent.isYoung(snapshotId)) return undefined;
          throw new SlipwayError('DiskError', `EBS snapshot ${snapshotId} disappeared while it was taken`, {
            plugin: PLUGIN,
            retryable: true,
          });
        }
        const state = snapshot.State;
        switch (state) {
          case undefined:
          case 'pending':
          case 'recovering':
            return undefined;
          case 'completed':
          case 'recoverable':
            return snapshot;
          case 'error':
            await this.ctx.ec2.deleteSnapshot(snapshotId, {}).catch(() => undefined);
            this.ctx.recent.forget(snapshotId);
            throw new SlipwayError(
              'DiskError',
              `EBS snapshot ${snapshotId} of ${snapshot.VolumeId} failed: ${snapshot.StateMessage ?? 'no state message'}`,
              { plugin: PLUGIN },
            );
          default:
            return assertNever(state, 'snapshot state');
        }
      },
      pollOptions(this.ctx, `snapshot ${snapshotId} to complete`, signal),
    );
  }
}
