import { ArmHttpError, objectAt } from './http.js';
import type { FakeContext, Reply, RouteCall } from './routes.js';

/** The checks and answers every resource provider of the fake shares. */

/** ARM's 404 for a resource that does not exist in the resource group. */
export function resourceNotFound(ctx: FakeContext, type: string, name: string): ArmHttpError {
  return new ArmHttpError(
    404,
    'ResourceNotFound',
    `The Resource '${type}/${name}' under resource group '${ctx.state.resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
  );
}

/** `location` is required on PUT and must be a region the fake serves. */
export function checkLocation(ctx: FakeContext, body: Record<string, unknown>, type: string): string {
  const location = body.location;
  if (typeof location !== 'string' || location === '') {
    throw new ArmHttpError(400, 'LocationRequired', 'The location property is required for this definition.');
  }
  if (location.toLowerCase().replace(/\s+/g, '') !== ctx.state.location) {
    throw new ArmHttpError(
      400,
      'LocationNotAvailableForResourceType',
      `The provided location '${location}' is not available for resource type '${type}'. List of available regions for the resource type is '${ctx.state.location}'.`,
    );
  }
  return ctx.state.location;
}

/** Resource names: `maxLength` characters of letters, digits, `.`, `_` and `-`, not ending with `.` or `-`. */
export function checkName(name: string, type: string, maxLength: number): void {
  if (name.length < 1 || name.length > maxLength || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || /[.-]$/.test(name)) {
    throw new ArmHttpError(
      400,
      'InvalidResourceName',
      `Resource name ${name} is invalid. The name can be up to ${maxLength} characters long. Valid characters are alphanumeric, underscore, hyphen and period, and it cannot end with a period or hyphen. (${type})`,
    );
  }
}

/** `zones`: one of the region's zones, or none. */
export function checkZones(ctx: FakeContext, value: unknown, resourceId: string): string[] | undefined {
  if (value === undefined || (Array.isArray(value) && value.length === 0)) return undefined;
  const zones = Array.isArray(value) ? value : [value];
  const bad = zones.find((z) => typeof z !== 'string' || !ctx.state.zones.includes(z));
  if (bad !== undefined || zones.length > 1) {
    throw new ArmHttpError(
      400,
      'InvalidParameter',
      `The zone(s) '${zones.join(',')}' for resource '${resourceId}' is not supported. The supported zones for location '${ctx.state.location}' are '${ctx.state.zones.join(',')}'`,
      {},
      'zones',
    );
  }
  return zones as string[];
}

/** The fake's answer to a write on a resource that is in the middle of another operation. */
export function busy(): ArmHttpError {
  return new ArmHttpError(
    409,
    'AnotherOperationInProgress',
    'Another operation on this or dependent resource is in progress. Retry the request after the operation completes.',
  );
}

/** One page of a list, with ARM's `nextLink` (a `$skiptoken`) when more follow. */
export function page<T>(ctx: FakeContext, call: RouteCall, items: T[]): Reply {
  const start = Number(call.query.get('$skiptoken') ?? '0') || 0;
  const slice = items.slice(start, start + ctx.listPageSize);
  const more = start + ctx.listPageSize < items.length;
  const next = new URL(call.req.url ?? '/', ctx.baseUrl);
  next.searchParams.set('$skiptoken', String(start + ctx.listPageSize));
  return { status: 200, body: { value: slice, ...(more ? { nextLink: next.href } : {}) } };
}

/** `properties` of a request body. */
export function propertiesOf(body: Record<string, unknown>): Record<string, unknown> {
  return objectAt(body.properties);
}
