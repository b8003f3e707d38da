/** What one cluster's API load balancer is: a VIP and port in front of the masters. */
export interface ApiLoadBalancerSpec {
  clusterId: string;
  vip: string;
  port: number;
  /** Each master's address; the backend port is `memberPort`. */
  members: string[];
  memberPort: number;
  healthCheckIntervalMs: number;
  /** Where the running HAProxy answers `show stat` (managed mode only). */
  statsSocket?: string;
}

/**
 * The HAProxy configuration of one cluster's API VIP: TCP passthrough (the API server terminates TLS, so
 * clients verify its certificate, whose SANs include the VIP), masters health-checked by TCP connect every
 * interval and taken out after two failures, and `option redispatch 1` so a connection refused by a master
 * that died between checks goes to another master at once instead of failing.
 */
export function renderHaproxyConfig(spec: ApiLoadBalancerSpec): string {
  const inter = spec.healthCheckIntervalMs;
  const lines = [
    `# Slipway API load balancer of cluster ${spec.clusterId}; written by @slipway/network-flat, do not edit.`,
    'global',
    '  maxconn 4096',
    ...(spec.statsSocket ? [`  stats socket ${spec.statsSocket} mode 600 level user`] : []),
    '',
    'defaults',
    '  mode tcp',
    // HAProxy waits min(timeout connect, 1 s) before it retries a refused connection: half an interval keeps
    // a client's wait after a master dies under one health-check interval.
    `  timeout connect ${Math.max(100, Math.min(Math.round(inter / 2), 2000))}ms`,
    '  timeout client 1h',
    '  timeout server 1h',
    `  timeout check ${Math.max(100, Math.min(inter, 2000))}ms`,
    '  option redispatch 1',
    '  retries 3',
    '',
    'frontend kubernetes_api',
    `  bind ${spec.vip}:${spec.port}`,
    '  default_backend masters',
    '',
    'backend masters',
    '  balance roundrobin',
    `  default-server check inter ${inter}ms fall 2 rise 1`,
    ...spec.members.map((address) => `  server m_${address} ${address}:${spec.memberPort}`),
    '',
  ];
  return lines.join('\n');
}
