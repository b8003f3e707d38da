import type { DrainReport } from '@slipway/contracts';
import type { InstanceRow } from '../store/index.js';

/** The agent's latest drain report of an instance, if it sent one since its desired state last changed. */
export function drainReportOf(row: Pick<InstanceRow, 'drain_report'> | undefined): DrainReport | undefined {
  if (!row?.drain_report) return undefined;
  try {
    return JSON.parse(row.drain_report) as DrainReport;
  } catch {
    return undefined;
  }
}

/** What the drain command said last, for a waiting line or an error: `attempt 3 failed: error when evicting ...`. */
export function describeDrainReport(report: DrainReport | undefined): string | undefined {
  if (!report) return undefined;
  switch (report.state) {
    case 'failed':
      return `attempt ${report.attempts} failed: ${report.message ?? 'no message'}`;
    case 'draining':
      return report.message
        ? `attempt ${report.attempts} running; attempt ${report.attempts - 1} failed: ${report.message}`
        : `attempt ${report.attempts} running`;
    case 'drained':
      return `drained after ${report.attempts} attempt${report.attempts === 1 ? '' : 's'}`;
  }
}

/**
 * Turns the agents' drain reports into task log lines, one per failed attempt: a drain that keeps failing
 * is visible in `slipway task ID` as it happens, with kubectl's message, instead of a silent wait.
 */
export class DrainFailureLog {
  private readonly logged = new Map<string, number>();

  constructor(private readonly log: (message: string) => void) {}

  /** Logs every failed attempt not logged yet of `rows` (named by `nameOf`). */
  observe(rows: InstanceRow[], nameOf: (row: InstanceRow) => string): void {
    for (const row of rows) {
      const report = drainReportOf(row);
      if (report?.state !== 'failed') continue;
      if ((this.logged.get(row.id) ?? 0) >= report.attempts) continue;
      this.logged.set(row.id, report.attempts);
      this.log(
        `drain of ${nameOf(row)} failed (attempt ${report.attempts}): ${report.message ?? 'no message'}; its agent retries`,
      );
    }
  }
}
