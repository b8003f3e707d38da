import { SlipwayError } from '@slipway/contracts';
import { intToIp, ipToInt, parseRange } from './ipam.js';

/** The VIP addresses of `load_balancer.vip_range`: every host of a CIDR, or `a-b` inclusive. */
export function parseVipRange(spec: string): { first: number; last: number } {
  const field = 'network.config.load_balancer.vip_range';
  if (spec.includes('/')) {
    const range = parseRange({ cidr: spec }, 'network.config.load_balancer.vip_range');
    return { first: range.first, last: range.last };
  }
  const [from, to] = spec.split('-').map((s) => ipToInt(s.trim()));
  if (from === undefined || to === undefined || to < from) {
    throw new SlipwayError('InvalidConfig', `${field}: "${spec}" must be a CIDR or a range a-b with a <= b`, { field });
  }
  return { first: from, last: to };
}

/** The lowest VIP no other cluster holds, or CapacityExhausted naming the range. */
export function pickVip(range: { first: number; last: number }, taken: Iterable<string>, spec: string): string {
  const used = new Set([...taken].map(ipToInt));
  for (let ip = range.first; ip <= range.last; ip++) if (!used.has(ip)) return intToIp(ip);
  throw new SlipwayError(
    'CapacityExhausted',
    `no free API VIP in ${spec}: all ${range.last - range.first + 1} are held by clusters`,
    {
      hint: 'Widen network.config.load_balancer.vip_range in slipway.yaml, or delete clusters you no longer need.',
    },
  );
}
