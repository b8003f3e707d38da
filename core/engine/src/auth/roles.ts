import { SlipwayError } from '@slipway/contracts';

/** PKS's UAA scopes, without the `pks.` prefix. */
export const ROLES = ['clusters.admin', 'clusters.admin.read', 'clusters.manage'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  /** The user's immutable id: ownership and credential grants follow it, never the (reusable) name. */
  id: number;
  name: string;
  roles: readonly Role[];
}

export type Access = 'read' | 'write';

/** Whether a principal may read or change clusters owned by the user `ownerId` (PKS uaa-scopes table). */
export function mayAccessCluster(principal: Principal, ownerId: number | null, access: Access): boolean {
  if (principal.roles.includes('clusters.admin')) return true;
  if (access === 'read' && principal.roles.includes('clusters.admin.read')) return true;
  return principal.roles.includes('clusters.manage') && ownerId !== null && principal.id === ownerId;
}

/** Whether a principal may see every cluster (list). */
export function seesAllClusters(principal: Principal): boolean {
  return principal.roles.includes('clusters.admin') || principal.roles.includes('clusters.admin.read');
}

export function requireRole(principal: Principal, allowed: readonly Role[], action: string): void {
  if (!allowed.some((r) => principal.roles.includes(r))) {
    throw new SlipwayError('Forbidden', `${principal.name} may not ${action}: needs one of ${allowed.join(', ')}`, {
      hint: `Ask an admin to grant one of: ${allowed.join(', ')}.`,
    });
  }
}
