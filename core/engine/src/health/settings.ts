import type { HealthConfig, PluginRef, SlipwayConfig } from '../config/schema.js';

/** The health section in milliseconds, with BOSH's defaults where slipway.yaml says nothing. */
export interface HealthSettings {
  heartbeatIntervalMs: number;
  agentTimeoutMs: number;
  analyzeIntervalMs: number;
  cloudCheckIntervalMs: number;
  /** Events older than this are deleted (health.event_retention_days). */
  eventRetentionMs: number;
  resurrector: { enabled: boolean; minimumDown: number; percentThreshold: number; timeWindowMs: number };
  alerts: readonly PluginRef[];
  /** How long a new VM's agent may take to report running (agents.boot_timeout_seconds). */
  bootTimeoutMs: number;
}

const DEFAULTS: HealthConfig = {
  agent_timeout_seconds: 60,
  analyze_interval_seconds: 10,
  cloud_check_interval_seconds: 60,
  event_retention_days: 30,
  resurrector: { enabled: true, minimum_down: 5, percent_threshold: 0.2, time_window_seconds: 600 },
  alerts: [],
};

export function healthSettingsOf(config: SlipwayConfig): HealthSettings {
  const h = { ...DEFAULTS, ...config.health, resurrector: { ...DEFAULTS.resurrector, ...config.health?.resurrector } };
  const ms = (seconds: number) => Math.round(seconds * 1000);
  return {
    heartbeatIntervalMs: ms(config.agents.heartbeat_interval_seconds),
    agentTimeoutMs: ms(h.agent_timeout_seconds),
    analyzeIntervalMs: ms(h.analyze_interval_seconds),
    cloudCheckIntervalMs: ms(h.cloud_check_interval_seconds),
    eventRetentionMs: ms(h.event_retention_days * 86_400),
    resurrector: {
      enabled: h.resurrector.enabled,
      minimumDown: h.resurrector.minimum_down,
      percentThreshold: h.resurrector.percent_threshold,
      timeWindowMs: ms(h.resurrector.time_window_seconds),
    },
    alerts: h.alerts ?? [],
    bootTimeoutMs: ms(config.agents.boot_timeout_seconds),
  };
}

/**
 * The documented detection bounds (docs/configuration.md, `health`): how long after the fact the monitor
 * has recorded each state at the latest. Tests measure against these.
 */
export function detectionBounds(
  s: HealthSettings,
  hasInventory: boolean,
): { unresponsive: number; missing: number; failing: number } {
  const unresponsive = s.agentTimeoutMs + s.analyzeIntervalMs;
  return {
    unresponsive,
    missing: hasInventory ? Math.min(unresponsive, s.cloudCheckIntervalMs + s.analyzeIntervalMs) : unresponsive,
    failing: s.analyzeIntervalMs,
  };
}
