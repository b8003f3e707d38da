import { SlipwayError } from '@slipway/contracts';

export function ipToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new SlipwayError('InvalidConfig', `"${ip}" is not an IPv4 address`);
  }
  return ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** A CIDR's usable host range: network and broadcast addresses excluded. */
export interface Range {
  cidr: string;
  first: number;
  last: number;
  netmask: string;
  gateway: number;
  reserved: Set<number>;
  dns: string[];
}

export function parseRange(
  spec: { cidr: string; gateway?: string; reserved?: string[]; dns?: string[] },
  path: string,
): Range {
  const [base, bitsText] = spec.cidr.split('/');
  const bits = Number(bitsText);
  if (!base || !Number.isInteger(bits) || bits < 8 || bits > 30) {
    throw new SlipwayError(
      'InvalidConfig',
      `${path}.cidr: "${spec.cidr}" must be an IPv4 CIDR with a prefix from /8 to /30`,
      { field: `${path}.cidr` },
    );
  }
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const network = (ipToInt(base) & mask) >>> 0;
  const broadcast = (network | (~mask >>> 0)) >>> 0;
  const gateway = spec.gateway ? ipToInt(spec.gateway) : network + 1;
  if (gateway <= network || gateway >= broadcast)
    throw new SlipwayError('InvalidConfig', `${path}.gateway: ${spec.gateway} is outside ${spec.cidr}`, {
      field: `${path}.gateway`,
    });
  const reserved = new Set<number>([gateway]);
  for (const entry of spec.reserved ?? []) {
    const [from, to] = entry.split('-').map((s) => ipToInt(s.trim()));
    for (let ip = from; ip <= (to ?? from); ip++) reserved.add(ip);
  }
  return {
    cidr: spec.cidr,
    first: network + 1,
    last: broadcast - 1,
    netmask: intToIp(mask),
    gateway,
    reserved,
    dns: spec.dns ?? [],
  };
}

/**
 * Picks the next address: never-used addresses first, in order, and released ones only after every
 * never-used one is gone (as DHCP servers do), so a stale reference to a deleted VM's address does not
 * reach a new VM soon after.
 */
export function pickAddress(
  range: Range,
  inUse: Set<number>,
  released: number[],
  cursor: number,
): { ip: number; cursor: number; fromReleased: boolean } | undefined {
  for (let ip = Math.max(cursor, range.first); ip <= range.last; ip++) {
    if (!inUse.has(ip) && !range.reserved.has(ip) && !released.includes(ip))
      return { ip, cursor: ip + 1, fromReleased: false };
  }
  const reuse = released.find((ip) => !inUse.has(ip) && !range.reserved.has(ip));
  return reuse === undefined ? undefined : { ip: reuse, cursor: range.last + 1, fromReleased: true };
}
