import { SlipwayError, type ErrorCode } from '@slipway/contracts';

export const PLUGIN = '@slipway/iaas-sandbox';

/** The sandbox's own failures, as SlipwayErrors; the one place they are made. */
export function sandboxError(code: ErrorCode, message: string, hint?: string): SlipwayError {
  return new SlipwayError(code, `sandbox: ${message}`, { plugin: PLUGIN, hint });
}
