/** IPv4 helpers for the fake's subnets. */

export function ipToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

export function cidrRange(cidr: string): { first: number; last: number } {
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const first = Math.floor(ipToInt(base!)! / size) * size;
  return { first, last: first + size - 1 };
}

/** EC2 reserves the first four addresses of a subnet and its last one. */
export function usableInSubnet(cidr: string, ip: string): boolean {
  const n = ipToInt(ip);
  if (n === undefined) return false;
  const { first, last } = cidrRange(cidr);
  return n >= first + 4 && n < last;
}
