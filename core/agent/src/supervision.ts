/** How the agent restarts processes that exit on their own (BOSH monit's job, done in-process). */
export interface SupervisionOptions {
  /** First restart delay; doubles with each restart within the window. Default 1000. */
  backoffBaseMs: number;
  /** Restart delay cap. Default 30 000. */
  backoffMaxMs: number;
  /** Restarts allowed within `restartWindowMs`; one more exit makes the process `failing`. Default 5. */
  maxRestarts: number;
  /** Default 5 minutes. */
  restartWindowMs: number;
  /** How long a stopping process gets between SIGTERM and SIGKILL. Default 10 000. */
  stopGraceMs: number;
}

export const DEFAULT_SUPERVISION: Readonly<SupervisionOptions> = Object.freeze({
  backoffBaseMs: 1_000,
  backoffMaxMs: 30_000,
  maxRestarts: 5,
  restartWindowMs: 5 * 60_000,
  stopGraceMs: 10_000,
});
