import { localError } from './errors.js';

/** Whether an address is in 127.0.0.0/8, which Linux routes to `lo` without any setup. */
export function isLoopback(ip: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(ip) && ip.split('.').every((o) => Number(o) <= 255);
}

/** Picks a free loopback address from `cidr` (network and broadcast addresses skipped). */
export function pickLoopback(cidr: string, inUse: ReadonlySet<string>): string {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  const start = toInt(base!) & mask(bits);
  const size = 2 ** (32 - bits);
  for (let offset = 1; offset < size - 1; offset++) {
    const ip = toIp(start + offset);
    if (!inUse.has(ip)) return ip;
  }
  throw localError(
    'CapacityExhausted',
    `no free loopback address left in ${cidr}`,
    'Widen address_pool in the local driver config, or delete VMs.',
  );
}

function mask(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

function toInt(ip: string): number {
  return ip.split('.').reduce((value, octet) => ((value << 8) >>> 0) + Number(octet), 0) >>> 0;
}

function toIp(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}
