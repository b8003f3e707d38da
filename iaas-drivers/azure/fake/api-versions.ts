import { ArmHttpError } from './http.js';

/**
 * The api-versions the fake's resource providers accept, per schedule. ARM checks the version against the
 * resource type: a Compute version sent to disks is refused, as on Azure (disks follow their own schedule).
 * The lists include what @azure/arm-compute 24 sends, so the official SDK can be pointed at the fake.
 */
export const SUPPORTED_API_VERSIONS = {
  compute: [
    '2022-08-01',
    '2022-11-01',
    '2023-03-01',
    '2023-07-01',
    '2023-09-01',
    '2024-03-01',
    '2024-07-01',
    '2024-11-01',
    '2025-04-01',
    '2026-03-01',
  ],
  disks: ['2022-07-02', '2023-01-02', '2023-04-02', '2023-10-02', '2024-03-02', '2025-01-02'],
  network: [
    '2023-04-01',
    '2023-05-01',
    '2023-06-01',
    '2023-09-01',
    '2023-11-01',
    '2024-01-01',
    '2024-03-01',
    '2024-05-01',
    '2024-07-01',
  ],
  resources: ['2021-04-01', '2022-09-01', '2024-03-01'],
} as const;
export type Schedule = keyof typeof SUPPORTED_API_VERSIONS;

/** ARM's answers to a missing, malformed or unsupported api-version. */
export function checkApiVersion(
  schedule: Schedule,
  resourceType: string,
  location: string,
  value: string | null,
): string {
  if (value === null || value === '') {
    throw new ArmHttpError(
      400,
      'MissingApiVersionParameter',
      'The api-version query parameter (?api-version=) is required for all requests.',
    );
  }
  const supported: readonly string[] = SUPPORTED_API_VERSIONS[schedule];
  if (!/^\d{4}-\d{2}-\d{2}(-preview)?$/.test(value)) {
    throw new ArmHttpError(
      400,
      'InvalidApiVersionParameter',
      `The api-version '${value}' is invalid. The supported versions are '${supported.join(',')}'.`,
    );
  }
  if (!supported.includes(value)) {
    const type = resourceType.split('/').slice(1);
    throw new ArmHttpError(
      400,
      'NoRegisteredProviderFound',
      `No registered resource provider found for location '${location}' and API version '${value}' for type '${type.join('/')}'. ` +
        `The supported api-versions are '${supported.join(', ')}'. The supported locations are '${location}'.`,
    );
  }
  return value;
}
