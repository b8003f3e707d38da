import { SlipwayError } from '@slipway/contracts';
import type { CountOrPercent, UpdateStrategyConfig } from '../config/schema.js';

/** A watch time: wait `lowMs`, then check until the instance is healthy or `highMs` has passed. */
export interface WatchTime {
  lowMs: number;
  highMs: number;
}

/** A plan's update block resolved for one instance group. */
export interface UpdateStrategy {
  canaries: number;
  maxInFlight: number;
  canaryWatch: WatchTime;
  updateWatch: WatchTime;
  serial: boolean;
  /** Infinity when the plan says 0 (wait forever, as PKS). */
  drainTimeoutMs: number;
  detachTimeoutMs: number;
  force: boolean;
}

/** What a request may override of the plan's block (`--max-in-flight`, `--canaries`, `--force-drain`). */
export interface StrategyOverrides {
  canaries?: CountOrPercent;
  max_in_flight?: CountOrPercent;
  force?: boolean;
}

export const DEFAULT_UPDATE: UpdateStrategyConfig = {
  canaries: 1,
  max_in_flight: 1,
  canary_watch_time: '1000-30000',
  update_watch_time: '1000-30000',
  serial: true,
  drain_timeout_seconds: 600,
  volume_detach_timeout_seconds: 300,
  force: false,
};

/** `2` → 2; `"25%"` of 10 → 3 (rounded up, so a percentage of a small group is not zero). */
export function countOf(value: CountOrPercent, size: number, field: string): number {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0)
      throw new SlipwayError('InvalidInput', `${field} must be a whole number or a percentage; got ${value}`, {
        field,
      });
    return value;
  }
  const m = /^(\d+(?:\.\d+)?)%$/.exec(value.trim());
  if (m) return Math.ceil((Number(m[1]) / 100) * size);
  if (/^\d+$/.test(value.trim())) return Number(value);
  throw new SlipwayError('InvalidInput', `${field} must be a count (2) or a percentage ("25%"); got "${value}"`, {
    field,
  });
}

/** `1000-30000` → {1000, 30000}; `5000` → {5000, 5000}. */
export function parseWatchTime(value: number | string, field: string): WatchTime {
  if (typeof value === 'number') return { lowMs: value, highMs: value };
  const m = /^(\d+)(?:-(\d+))?$/.exec(value.trim());
  if (!m)
    throw new SlipwayError(
      'InvalidInput',
      `${field} must be milliseconds (5000) or a range ("1000-30000"); got "${value}"`,
      { field },
    );
  const low = Number(m[1]);
  const high = m[2] === undefined ? low : Number(m[2]);
  if (high < low) throw new SlipwayError('InvalidInput', `${field}: ${value} ends before it starts`, { field });
  return { lowMs: low, highMs: high };
}

/** Resolves a plan's update block (with a request's overrides) for a group of `size` instances. */
export function resolveStrategy(
  config: Partial<UpdateStrategyConfig> | undefined,
  overrides: StrategyOverrides,
  size: number,
): UpdateStrategy {
  const c = { ...DEFAULT_UPDATE, ...config };
  const maxInFlight = Math.max(1, countOf(overrides.max_in_flight ?? c.max_in_flight, size, 'max_in_flight'));
  return {
    canaries: Math.min(size, countOf(overrides.canaries ?? c.canaries, size, 'canaries')),
    maxInFlight,
    canaryWatch: parseWatchTime(c.canary_watch_time, 'canary_watch_time'),
    updateWatch: parseWatchTime(c.update_watch_time, 'update_watch_time'),
    serial: c.serial,
    drainTimeoutMs: c.drain_timeout_seconds === 0 ? Infinity : Math.round(c.drain_timeout_seconds * 1000),
    detachTimeoutMs: Math.round(c.volume_detach_timeout_seconds * 1000),
    force: overrides.force ?? c.force,
  };
}

/** One member of a group as batch planning sees it. */
export interface RollMember {
  id: string;
  /** Still to replace in this roll. */
  pending: boolean;
  /** Running and serving (a draining or booting one is not). */
  healthy: boolean;
}

/**
 * The next batch of a roll: who to replace now so that at most `cap` members are down at once, counting
 * those already down for other reasons. Members that are already down and still pending go first (they
 * cost no availability); healthy ones are taken only while the budget allows. An empty batch with
 * pending members means: wait until a down member comes back.
 */
export function nextBatch(members: readonly RollMember[], cap: number): string[] {
  const down = members.filter((m) => !m.healthy);
  const batch = down
    .filter((m) => m.pending)
    .slice(0, cap)
    .map((m) => m.id);
  let budget = cap - down.length;
  for (const m of members) {
    if (budget <= 0 || batch.length >= cap) break;
    if (m.pending && m.healthy) {
      batch.push(m.id);
      budget--;
    }
  }
  return batch;
}
