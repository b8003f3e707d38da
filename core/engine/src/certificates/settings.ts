import type { SlipwayConfig } from '../config/schema.js';

/** The certificates section with its defaults (docs/configuration.md, `certificates`). */
export interface CertificateSettings {
  renewBeforeDays: number;
  caRenewBeforeDays: number;
  checkIntervalMs: number;
  maxConcurrentRenewals: number;
  /** Alert thresholds in days, largest first. */
  alertDays: number[];
}

export function certificateSettingsOf(config: SlipwayConfig): CertificateSettings {
  const c = config.certificates;
  return {
    renewBeforeDays: c?.renew_before_days ?? 30,
    caRenewBeforeDays: c?.ca_renew_before_days ?? 365,
    checkIntervalMs: Math.round((c?.check_interval_seconds ?? 3600) * 1000),
    maxConcurrentRenewals: c?.max_concurrent_renewals ?? 1,
    alertDays: [...new Set(c?.alert_days ?? [180, 30, 7])].sort((a, b) => b - a),
  };
}
