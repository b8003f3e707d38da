/** The meltdown guard's verdict for one cluster. */
export interface MeltdownState {
  active: boolean;
  /** Distinct instances that went down within the window. */
  down: number;
  /** Instances the cluster should have. */
  total: number;
  reason: string;
}

/**
 * BOSH's meltdown rule: up to `minimumDown` instances down within the window are always resurrected; past
 * that, when more than `percentThreshold` of the cluster went down, none are (a zone or network outage, not
 * a VM failure: recreating VMs into it would not help and could make it worse).
 */
export function meltdownOf(
  down: number,
  total: number,
  rule: { minimumDown: number; percentThreshold: number; timeWindowMs: number },
): MeltdownState {
  const share = total > 0 ? down / total : 0;
  const window = `${Math.round(rule.timeWindowMs / 1000)} s`;
  const pct = (x: number) => `${Math.round(x * 1000) / 10} %`;
  if (down <= rule.minimumDown) {
    return {
      active: false,
      down,
      total,
      reason: `${down} of ${total} instances went down within ${window}, not more than minimum_down ${rule.minimumDown}`,
    };
  }
  if (share <= rule.percentThreshold) {
    return {
      active: false,
      down,
      total,
      reason: `${down} of ${total} instances (${pct(share)}) went down within ${window}, not more than percent_threshold ${pct(rule.percentThreshold)}`,
    };
  }
  return {
    active: true,
    down,
    total,
    reason: `${down} of ${total} instances (${pct(share)}) went down within ${window}: more than minimum_down ${rule.minimumDown} and more than percent_threshold ${pct(rule.percentThreshold)}`,
  };
}
