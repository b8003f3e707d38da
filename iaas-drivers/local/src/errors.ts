import { SlipwayError, type ErrorCode } from '@slipway/contracts';

export const PLUGIN = '@slipway/iaas-local';

/** The local driver's own refusals (unknown VM, disk in use), as SlipwayErrors. */
export function localError(code: ErrorCode, message: string, hint?: string): SlipwayError {
  return new SlipwayError(code, `local: ${message}`, { plugin: PLUGIN, hint });
}

/**
 * The one place host failures become SlipwayErrors. The local "cloud" is this machine: its errors are
 * errno codes from spawning processes and writing directories. Transient ones (out of processes or file
 * descriptors, I/O errors) are retryable; a full disk is a quota; the rest are permanent.
 */
export function hostError(verb: string, error: unknown): SlipwayError {
  if (SlipwayError.is(error)) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? '';
  const message = `local: ${verb}: ${error instanceof Error ? error.message : String(error)}`;
  const options = { plugin: PLUGIN, cause: error };
  switch (code) {
    case 'EAGAIN':
      return new SlipwayError('RateLimited', message, { ...options, retryAfterMs: 50 });
    case 'EIO':
    case 'EBUSY':
    case 'EMFILE':
    case 'ENFILE':
    case 'ENOMEM':
    case 'EINTR':
      return new SlipwayError('Retryable', message, options);
    case 'ENOSPC':
    case 'EDQUOT':
      return new SlipwayError('QuotaExceeded', message, {
        ...options,
        hint: "Free space on the disk that holds the local driver's root.",
      });
    default:
      return new SlipwayError(permanentCode(verb), message, options);
  }
}

function permanentCode(verb: string): ErrorCode {
  if (verb === 'createVm') return 'VmCreationFailed';
  if (/Disk|Snapshot/.test(verb)) return 'DiskError';
  return 'CloudError';
}
