import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { SlipwayError, type EtcdSettings, type Logger } from '@slipway/contracts';

/** How an etcd member starts: as in the cluster's first boot, or joining the running cluster as a new member. */
export type EtcdBootstrap =
  | { state: 'new' }
  | { state: 'existing'; initialCluster: string; memberId: string; replaced?: string };

/** A member as etcd's v3 API lists it (`ID` is a uint64, as a decimal string in JSON). */
export interface EtcdMember {
  ID: string;
  name?: string;
  peerURLs?: string[];
  clientURLs?: string[];
}

/** PEMs of a client certificate of the etcd CA (the `etcd-client` role), for the v3 API's JSON gateway. */
export interface EtcdClientTls {
  ca: string;
  cert: string;
  key: string;
}

/** Where a member records how it joined, beside its data dir on the persistent disk. */
export function bootstrapFile(storeDir: string): string {
  return join(storeDir, 'etcd-bootstrap.json');
}

/**
 * The member id etcd derives for a member of `--initial-cluster` at the first boot (etcd's
 * `computeMemberId` without a time): the first 8 bytes of SHA-1 over the member's own sorted peer URLs and
 * the cluster token, big-endian. A member added later with `member add` gets a time-salted id instead, so an id equal
 * to this one means the member was never added back: the cluster's first boot is still under way.
 */
export function initialMemberId(peerUrls: string[], clusterToken: string): string {
  const hash = createHash('sha1')
    .update([...peerUrls].sort().join('') + clusterToken)
    .digest();
  return hash.readBigUInt64BE(0).toString();
}

export interface EtcdMembershipInput {
  self: EtcdSettings['members'][number];
  etcd: EtcdSettings;
  dataDir: string;
  storeDir: string;
  tls: EtcdClientTls;
  logger?: Logger;
  signal?: AbortSignal;
  /** Bound of one call to a member; default 5 000 ms. */
  timeoutMs?: number;
}

/**
 * Decides how this member starts, the way etcd's runtime-reconfiguration guide says a member with lost data
 * must come back: never with an empty data dir under its old member id (it would have forgotten votes and
 * entries it acknowledged, and could help elect a leader without them), but removed by id and added back as
 * a new member, then started with `--initial-cluster-state=existing` and the member list `member add` returns.
 *
 * - A data dir with a `member/` directory: etcd ignores the bootstrap flags; the recorded decision (if any)
 *   is reused so the process's flags stay the same and nothing restarts.
 * - An empty data dir, and a peer answers: this member's entry (by peer URL) that has started before, or
 *   that was added back by `member add`, means a lost disk: remove it (when it had started), add a new one,
 *   join. An entry never started whose id is the first-boot id means the cluster is still forming: `new`.
 * - An empty data dir and no peer answers: the cluster's first boot (every member starts at once). A member
 *   whose disk is lost while every other member is down too cannot be told from that; etcd's disaster
 *   recovery (restore from a snapshot) is the operator's then.
 */
export async function prepareEtcdMember(input: EtcdMembershipInput): Promise<EtcdBootstrap> {
  const file = bootstrapFile(input.storeDir);
  if (existsSync(join(input.dataDir, 'member'))) {
    const recorded = await readFile(file, 'utf8')
      .then((text) => JSON.parse(text) as EtcdBootstrap)
      .catch(() => undefined);
    return recorded?.state === 'existing' ? recorded : { state: 'new' };
  }
  const peers = input.etcd.members.filter((m) => m.name !== input.self.name);
  const client = new EtcdV3Client(input.tls, input.timeoutMs ?? 5_000, input.signal);
  const listed = await client.firstAnswer(
    peers.map((p) => p.clientUrl),
    (endpoint) => client.memberList(endpoint),
  );
  if (!listed) {
    await rm(file, { force: true });
    return { state: 'new' };
  }
  const { endpoint, value: members } = listed;
  const own = members.find((m) => (m.peerURLs ?? []).includes(input.self.peerUrl));
  if (own && !own.name && own.ID === initialMemberId([input.self.peerUrl], input.etcd.clusterToken)) {
    await rm(file, { force: true });
    return { state: 'new' };
  }
  let replaced: string | undefined;
  let memberId: string;
  let current: EtcdMember[];
  if (own && !own.name) {
    // Added back earlier and never started (the agent stopped in between): join under that id.
    memberId = own.ID;
    current = members;
  } else {
    if (own) {
      input.logger?.warn(
        'etcd data dir is empty but this member has run before: removing it and adding it back as a new member',
        { member: input.self.name, id: own.ID },
      );
      await client.memberRemove(endpoint, own.ID);
      replaced = own.ID;
    }
    const added = await client.memberAdd(endpoint, input.self.peerUrl);
    memberId = added.member.ID;
    current = added.members;
  }
  const nameOf = (m: EtcdMember): string =>
    m.name ||
    (m.ID === memberId
      ? input.self.name
      : (input.etcd.members.find((d) => (m.peerURLs ?? []).includes(d.peerUrl))?.name ?? m.ID));
  const initialCluster = current.flatMap((m) => (m.peerURLs ?? []).map((url) => `${nameOf(m)}=${url}`)).join(',');
  const decision: EtcdBootstrap = { state: 'existing', initialCluster, memberId, ...(replaced ? { replaced } : {}) };
  await writeFile(file, `${JSON.stringify(decision)}\n`, { mode: 0o600 });
  input.logger?.info('etcd joins the running cluster as a new member', {
    member: input.self.name,
    id: memberId,
    ...(replaced ? { replaced } : {}),
  });
  return decision;
}

/** The few cluster calls a member needs, over etcd's v3 JSON gateway (`/v3/cluster/member/*`). */
class EtcdV3Client {
  constructor(
    private readonly tls: EtcdClientTls,
    private readonly timeoutMs: number,
    private readonly signal?: AbortSignal,
  ) {}

  async firstAnswer<T>(
    endpoints: string[],
    call: (endpoint: string) => Promise<T>,
  ): Promise<{ endpoint: string; value: T } | undefined> {
    for (const endpoint of endpoints) {
      try {
        return { endpoint, value: await call(endpoint) };
      } catch {
        // Not up (yet): the next one.
      }
    }
    return undefined;
  }

  async memberList(endpoint: string): Promise<EtcdMember[]> {
    return ((await this.post(endpoint, '/v3/cluster/member/list', {})) as { members?: EtcdMember[] }).members ?? [];
  }

  async memberRemove(endpoint: string, id: string): Promise<void> {
    await this.post(endpoint, '/v3/cluster/member/remove', { ID: id });
  }

  async memberAdd(endpoint: string, peerUrl: string): Promise<{ member: EtcdMember; members: EtcdMember[] }> {
    const answer = (await this.post(endpoint, '/v3/cluster/member/add', { peerURLs: [peerUrl] })) as {
      member?: EtcdMember;
      members?: EtcdMember[];
    };
    if (!answer.member)
      throw new SlipwayError('Retryable', `etcd at ${endpoint} answered member add without the new member`);
    return { member: answer.member, members: answer.members ?? [answer.member] };
  }

  private post(endpoint: string, path: string, body: unknown): Promise<unknown> {
    const url = new URL(path, endpoint);
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          ca: this.tls.ca,
          cert: this.tls.cert,
          key: this.tls.key,
          timeout: this.timeoutMs,
          headers: { 'content-type': 'application/json' },
          ...(this.signal ? { signal: this.signal } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode !== 200) {
              reject(
                new SlipwayError(
                  'Retryable',
                  `etcd at ${endpoint} refused ${path}: HTTP ${res.statusCode} ${text.slice(0, 200)}`,
                ),
              );
              return;
            }
            try {
              resolve(JSON.parse(text));
            } catch (error) {
              reject(
                new SlipwayError('Retryable', `etcd at ${endpoint} answered ${path} with something other than JSON`, {
                  cause: error,
                }),
              );
            }
          });
        },
      );
      req.on('timeout', () =>
        req.destroy(
          new SlipwayError('Retryable', `etcd at ${endpoint} did not answer ${path} within ${this.timeoutMs} ms`),
        ),
      );
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
  }
}
