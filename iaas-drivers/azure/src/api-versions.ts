/**
 * The api-version the driver sends, per resource provider schedule. ARM refuses a request without one
 * (MissingApiVersionParameter) and one the resource type does not offer (NoRegisteredProviderFound), and the
 * disk resource provider (disks, snapshots) publishes versions of its own, apart from the rest of Compute.
 *
 * - Compute 2024-07-01: `userData`, `deleteOption` on NICs and OS disks (2021-03-01+), VM etags for optimistic updates (If-Match).
 * - Disks 2024-03-02: managed disks and incremental snapshots.
 * - Network 2024-05-01: network interfaces.
 * - Resources 2021-04-01: the Tags API (`Microsoft.Resources/tags/default`, merge).
 */
export const API_VERSIONS = {
  compute: '2024-07-01',
  disks: '2024-03-02',
  network: '2024-05-01',
  resources: '2021-04-01',
} as const;

export type ApiVersionSchedule = keyof typeof API_VERSIONS;
