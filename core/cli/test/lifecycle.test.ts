import { execFileSync } from 'node:child_process';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ADMIN_PASSWORD, UserWorkspace, apiGet, eventually, screenOf, startTestControlPlane } from './harness.js';

type ControlPlane = Awaited<ReturnType<typeof startTestControlPlane>>;

let plane: ControlPlane;
let user: UserWorkspace;
const token = async () => (JSON.parse(await readFile(user.cliConfig, 'utf8')) as { access_token: string }).access_token;

beforeAll(async () => {
  [plane, user] = await Promise.all([startTestControlPlane(), UserWorkspace.create()]);
});

afterAll(async () => {
  await plane?.stop();
  await user?.remove();
});

// One story, in order: a developer logs in, creates, inspects, resizes, gets credentials, rehearses
// failures and deletes, all through the CLI against a real control plane.
describe('slipway against a running control plane', () => {
  it("refuses a wrong password with the API's message and hint, and stores nothing", async () => {
    const run = await user.run([
      'login',
      '-a',
      plane.cp.url,
      '-u',
      'admin',
      '-p',
      'wrong-password',
      '--ca-cert',
      plane.cp.caPath,
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Error: bad credentials: unknown user or wrong password');
    expect(run.stderr).toContain('Hint: Check the user name and password.');
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
    await expect(stat(user.cliConfig)).rejects.toThrow(/ENOENT/);
  });

  it('says to pass --ca-cert when the API certificate cannot be verified', async () => {
    const run = await user.run(['login', '-a', plane.cp.url, '-u', 'admin', '-p', ADMIN_PASSWORD]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/cannot verify the TLS certificate/);
    expect(run.stderr).toMatch(/Hint: .*--ca-cert/);
  });

  it('with -k logs in to HOST:PORT without verifying the certificate, and warns', async () => {
    const run = await user.run([
      'login',
      '-a',
      plane.cp.url.replace('https://', ''),
      '-u',
      'admin',
      '-p',
      ADMIN_PASSWORD,
      '-k',
    ]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('Warning: the API certificate was not verified (-k)');
    const stored = JSON.parse(await readFile(user.cliConfig, 'utf8'));
    expect(stored).toMatchObject({ api: plane.cp.url, skip_ssl_validation: true });
    expect(stored.ca_cert).toBeUndefined();
    expect((await user.run(['plans'])).code).toBe(0);
  });

  it('logs in and stores the API URL, token, expiry and CA path in a 0600 file', async () => {
    const run = await user.run([
      'login',
      '-a',
      plane.cp.url,
      '-u',
      'admin',
      '-p',
      ADMIN_PASSWORD,
      '--ca-cert',
      plane.cp.caPath,
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`API Endpoint: ${plane.cp.url}`);
    expect(run.stdout).toContain('Login successful.');
    const stored = JSON.parse(await readFile(user.cliConfig, 'utf8'));
    expect(stored).toMatchObject({ api: plane.cp.url, user: 'admin', ca_cert: plane.cp.caPath });
    expect(stored.access_token).toMatch(/^\S{20,}$/);
    expect(Date.parse(stored.expires_at)).toBeGreaterThan(Date.now() + 3600_000);
    expect((await stat(user.cliConfig)).mode & 0o777).toBe(0o600);
  });

  it("lists plans in a table and as the API's JSON", async () => {
    const human = await user.run(['plans']);
    expect(human.code).toBe(0);
    const [header, ...rows] = human.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^Name\s+ID\s+Description\s+Masters\s+Workers\s+Max Workers\s+K8s Version\s+IaaS$/);
    expect(rows.map((r) => r.split(/\s{2,}/)[0])).toEqual(['small', 'ha']);
    // Columns are aligned: each row's Masters cell starts where the header's does.
    const col = header.indexOf('Masters');
    expect(rows.every((r) => /\d/.test(r[col]))).toBe(true);
    const json = await user.run(['plans', '--json']);
    expect(JSON.parse(json.stdout)).toEqual(await apiGet(plane.cp, await token(), '/v1/plans'));
  });

  it("explains an unknown plan with the API's hint (exit 1)", async () => {
    const run = await user.run(['create-cluster', 'nope', '--plan', 'gold', '--external-hostname', 'nope.example.com']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Error: plan "gold" does not exist; plans: small, ha');
    expect(run.stderr).toContain('Hint: List plans with `slipway plans`.');
  });

  it('creates a cluster with --wait, showing each step as it progresses, and exits 0 when done', async () => {
    const run = await user.run([
      'create-cluster',
      'dev',
      '--plan',
      'small',
      '--external-hostname',
      'dev.example.com',
      '--num-nodes',
      '1',
      '--wait',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    // The accepted cluster, then one line per step change (a pipe, not a TTY), then the final state.
    expect(run.stdout).toMatch(/Last Action State:\s+in progress/);
    for (const step of [
      'plan',
      'network',
      'credentials',
      'stemcell',
      'masters',
      'workers',
      'agents',
      'api-endpoint',
      'kubernetes-api',
      'rbac',
    ]) {
      expect(run.stdout).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d \\[\\d+/10\\] ${step}: done`, 'm'));
    }
    expect(run.stdout).toMatch(/\[5\/10\] masters: done \(1 of 1 master VMs\)/);
    // The sandbox's plans are etcd-only rehearsals: the API step says what it did not check.
    expect(run.stdout).toMatch(
      /\[9\/10\] kubernetes-api: done \(skipped: plan small says kubernetes.require_api: false\)/,
    );
    expect(run.stdout).toMatch(/task \d+ done after \d+\.\ds/);
    expect(run.stdout).not.toContain('\x1b['); // nothing redrawn off a terminal
    const final = run.stdout.slice(run.stdout.lastIndexOf('Slipway Version:'));
    expect(final).toMatch(/Last Action State:\s+succeeded/);
    expect(final).toMatch(/Kubernetes Master IP\(s\):\s+10\.20\.\d+\.\d+/);
    expect(final).toMatch(/Worker Nodes:\s+1$/m);
  });

  it("lists clusters as pks does and as the API's JSON", async () => {
    const human = await user.run(['clusters']);
    expect(human.code).toBe(0);
    const [header, row] = human.stdout.trimEnd().split('\n');
    expect(header.split(/\s{2,}/)).toEqual(['Name', 'Plan Name', 'K8s Version', 'Workers', 'UUID', 'Status', 'Action']);
    expect(row.split(/\s{2,}/)).toEqual([
      'dev',
      'small',
      '1.31.4',
      '1',
      expect.stringMatching(/^[0-9a-f-]{36}$/),
      'succeeded',
      'CREATE',
    ]);
    const json = await user.run(['clusters', '--json']);
    expect(JSON.parse(json.stdout)).toEqual(await apiGet(plane.cp, await token(), '/v1/clusters'));
  });

  it('shows a cluster with the pks fields, local timestamps, and --details instances', async () => {
    const api = (await apiGet(plane.cp, await token(), '/v1/clusters/dev')) as {
      uuid: string;
      created_at: string;
      kubernetes_master_ips: string[];
    };
    const human = await user.run(['cluster', 'dev']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^Name:\s+dev$/m);
    expect(human.stdout).toMatch(new RegExp(`^UUID:\\s+${api.uuid}$`, 'm'));
    expect(human.stdout).toMatch(/^Plan Name:\s+small$/m);
    expect(human.stdout).toMatch(/^Last Action:\s+CREATE$/m);
    expect(human.stdout).toMatch(/^K8s Version:\s+1\.31\.4$/m);
    expect(human.stdout).toMatch(/^Kubernetes Master Host:\s+dev\.example\.com$/m);
    expect(human.stdout).toMatch(
      new RegExp(`^Kubernetes Master IP\\(s\\):\\s+${api.kubernetes_master_ips[0].replace(/\./g, '\\.')}$`, 'm'),
    );
    const created = /^Created:\s+(\S+)$/m.exec(human.stdout)![1];
    expect(created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
    expect(Math.abs(Date.parse(created) - Date.parse(api.created_at))).toBeLessThan(1000);

    const json = await user.run(['cluster', 'dev', '--json']);
    expect(JSON.parse(json.stdout)).toEqual(api);

    const details = await user.run(['cluster', 'dev', '--details']);
    expect(details.stdout).toMatch(
      /^Instance\s+VM CID\s+IP\s+Zone\s+State\s+Desired\s+Processes\s+Last Heartbeat\s+Persistent Disk$/m,
    );
    // Jobs start only once the agent has the disk mounted, so a running instance shows it mounted.
    expect(details.stdout).toMatch(
      /^master\/0\s+vm-\S+\s+10\.20\.\S+\s+\S+\s+running\s+present\s+7\/7 running\s+\S+\s+disk-\S+ mounted$/m,
    );
    expect(details.stdout).toMatch(
      /^worker\/0\s+vm-\S+\s+10\.20\.\S+\s+\S+\s+running\s+present\s+3\/3 running\s+\S+\s+disk-\S+ mounted$/m,
    );
    expect(details.stdout).toContain('Recent events:');
    const detailsJson = JSON.parse((await user.run(['cluster', 'dev', '--details', '--json'])).stdout);
    expect(detailsJson.instances.map((i: { name: string }) => i.name).sort()).toEqual(['master/0', 'worker/0']);
    expect(detailsJson.events).toEqual(await apiGet(plane.cp, await token(), '/v1/clusters/dev/events'));
  });

  it('resizes with --wait, redrawing the progress in place on a terminal', async () => {
    const run = await user.run(['resize', 'dev', '--num-nodes', '2', '--wait'], { tty: true });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Task \d+: resize cluster dev to 2 workers \((processing|done)/);
    expect(run.stdout).toMatch(/\x1b\[\d+F\x1b\[J/); // the block was redrawn at least once
    // What the terminal shows at the end: one progress block (redrawn, not appended), every step ticked.
    const screen = screenOf(run.stdout);
    const headers = screen.filter((l) => /^Task \d+: resize cluster dev/.test(l));
    expect(headers).toHaveLength(1);
    expect(headers[0]).toMatch(/\(done, (\d+)\/\1 steps, \d+\.\ds\)$/);
    const steps = screen.slice(screen.indexOf(headers[0]) + 1).filter((l) => /^ {2}\S /.test(l));
    expect(steps.length).toBeGreaterThan(3);
    expect(steps.every((l) => l.startsWith('  ✓ '))).toBe(true);
    expect(screen.join('\n')).toMatch(/Worker Nodes:\s+2$/m);
    const inventory = (await apiGet(plane.cp, await token(), '/v1/sandbox/sandbox/inventory')) as {
      vms: Array<{ metadata: Record<string, string> }>;
    };
    expect(inventory.vms.filter((v) => v.metadata['slipway.cluster'] === 'dev')).toHaveLength(3);
  });

  it('stops waiting on Ctrl-C (exit 130) and leaves the task running', async () => {
    const controller = new AbortController();
    const run = await user.run(['resize', 'dev', '--num-nodes', '3', '--wait'], {
      signal: controller.signal,
      onStdout: (text) => {
        if (/\] \S+: (running|done)/.test(text)) controller.abort();
      },
    });
    expect(run.code).toBe(130);
    const taskId = /\(task (\d+)\)/.exec(run.stdout)![1];
    expect(run.stderr).toBe(`Stopped waiting; task ${taskId} goes on. Follow it with: slipway task ${taskId}\n`);
    const task = await eventually(async () => {
      const doc = JSON.parse((await user.run(['task', taskId, '--json'])).stdout) as { state: string };
      return doc.state === 'processing' || doc.state === 'queued' ? undefined : doc;
    });
    expect(task.state).toBe('done');
    expect((await user.run(['cluster', 'dev'])).stdout).toMatch(/^Worker Nodes:\s+3$/m);
  });

  it('names the flag when the API refuses its value', async () => {
    const run = await user.run(['resize', 'dev', '-n', '11']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'kubernetes_worker_instances must be an integer from 1 to 10 (the maximum of plan "small"); got 11',
    );
    expect(run.stderr.split('\n')[1]).toBe('(the value of --num-nodes)');
  });

  it('merges credentials into an existing kubeconfig: other context kept, current-context set, cert verifies', async () => {
    await mkdir(join(user.dir, 'kube'), { recursive: true });
    const existing = [
      '# my clusters',
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: other',
      '  cluster: {server: "https://other.example.com:6443"}',
      'users:',
      '- name: other-user',
      '  user: {token: abc}',
      'contexts:',
      '- name: other',
      '  context: {cluster: other, user: other-user}',
      'current-context: other',
      '',
    ].join('\n');
    await writeFile(user.kubeconfig, existing, { mode: 0o644 });

    const run = await user.run(['get-credentials', 'dev']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Context set for cluster dev');
    // Twice: the second run replaces the entries by name instead of adding duplicates.
    expect((await user.run(['get-credentials', 'dev'])).code).toBe(0);

    const text = await readFile(user.kubeconfig, 'utf8');
    expect(text).toContain('# my clusters');
    const merged = parse(text);
    expect(merged['current-context']).toBe('dev');
    expect(merged.contexts.map((c: { name: string }) => c.name)).toEqual(['other', 'dev']);
    expect(merged.clusters.map((c: { name: string }) => c.name)).toEqual(['other', 'dev']);
    expect(merged.users.map((u: { name: string }) => u.name)).toEqual(['other-user', 'dev-admin']);
    expect(merged.users[0]).toEqual({ name: 'other-user', user: { token: 'abc' } });
    expect(merged.contexts[1].context).toEqual({ cluster: 'dev', user: 'dev-admin' });
    expect(merged.clusters[1].cluster.server).toBe('https://dev.example.com:8443');
    expect((await stat(user.kubeconfig)).mode & 0o777).toBe(0o600);

    const caFile = join(user.dir, 'cluster-ca.pem');
    const certFile = join(user.dir, 'client.pem');
    await writeFile(caFile, Buffer.from(merged.clusters[1].cluster['certificate-authority-data'], 'base64'));
    await writeFile(certFile, Buffer.from(merged.users[1].user['client-certificate-data'], 'base64'));
    expect(execFileSync('openssl', ['verify', '-CAfile', caFile, certFile], { encoding: 'utf8' })).toContain(': OK');
    const subject = execFileSync('openssl', ['x509', '-noout', '-subject', '-in', certFile], { encoding: 'utf8' });
    expect(subject).toMatch(/CN\s*=\s*admin/);
  });

  it('rehearses failures on the sandbox: kill a VM, hang an agent, detach a disk', async () => {
    const before = JSON.parse((await user.run(['sandbox', 'inventory', '--json'])).stdout) as {
      vms: Array<{ vmId: string; state?: string; metadata: Record<string, string> }>;
      disks: Array<{ diskId: string; vmId?: string }>;
    };
    const human = await user.run(['sandbox', 'inventory']);
    expect(human.stdout).toMatch(/^VM CID\s+State\s+Cluster\s+Instance$/m);
    expect(human.stdout).toMatch(/^vm-\S+\s+running\s+dev\s+worker\/1$/m);
    const vmOf = (instance: string) => before.vms.find((v) => v.metadata['slipway.instance'] === instance)!.vmId;
    const killed = vmOf('worker/1');
    const hung = vmOf('worker/0');
    const disk = before.disks.find((d) => d.vmId === vmOf('master/0'))!.diskId;

    expect((await user.run(['sandbox', 'kill-vm', killed])).code).toBe(0);
    expect((await user.run(['sandbox', 'hang-agent', hung, '--iaas', 'sandbox'])).code).toBe(0);
    const detach = await user.run(['sandbox', 'detach-disk', disk]);
    expect(detach.code).toBe(0);
    expect(detach.stdout).toContain(`Disk ${disk} on sandbox is detached`);

    const after = JSON.parse((await user.run(['sandbox', 'inventory', '--json'])).stdout) as typeof before;
    expect(after.vms.map((v) => v.vmId)).not.toContain(killed);
    expect(after.vms.find((v) => v.vmId === hung)?.state).toBe('hung');
    expect(after.disks.find((d) => d.diskId === disk)?.vmId).toBeUndefined();

    const missing = await user.run(['sandbox', 'kill-vm', 'vm-nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('VM vm-nope does not exist');
    const realCloud = await user.run(['sandbox', 'inventory', '--iaas', 'aws']);
    expect(realCloud.code).toBe(1);
    expect(realCloud.stderr).toMatch(/IaaS target "aws" is not configured; known: sandbox/);
  });

  it("refuses a second change while a task runs (409), cancels it, and --wait exits 1 with the task's error", async () => {
    const waiting = user.run(['create-cluster', 'busy', '-p', 'small', '-e', 'busy.example.com', '-n', '1', '--wait']);
    const taskId = await eventually(async () => {
      const list = JSON.parse((await user.run(['tasks', '--json'])).stdout) as Array<{
        id: number;
        cluster_name: string;
      }>;
      return list.find((t) => t.cluster_name === 'busy')?.id;
    });

    const resize = await user.run(['resize', 'busy', '-n', '2']);
    expect(resize.code).toBe(1);
    expect(resize.stderr).toContain(
      `Error: cluster "busy" is busy with create (task ${taskId}); retry when it finishes or run: slipway cancel-task ${taskId}`,
    );
    expect(resize.stderr).toMatch(/^Hint: Wait for the running task/m);

    const cancel = await user.run(['cancel-task', String(taskId)]);
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toContain(`Task ${taskId} (create cluster busy) is cancelling`);

    const waited = await waiting;
    expect(waited.code).toBe(1);
    expect(waited.stdout).toMatch(new RegExp(`task ${taskId} cancelled after`));
    expect(waited.stderr).toMatch(new RegExp(`^Error: task ${taskId} \\(create cluster busy\\) was cancelled: `, 'm'));
    expect(waited.stderr).toContain(`slipway task ${taskId}`);
    const ended = JSON.parse((await user.run(['task', String(taskId), '--json'])).stdout) as { state: string };
    expect(ended.state).toBe('cancelled');

    const report = await user.run(['task', String(taskId)]);
    expect(report.code).toBe(0);
    expect(report.stdout).toMatch(/^State:\s+cancelled$/m);
    expect(report.stdout).toMatch(/^Error:\s+Cancelled: /m);
    expect(report.stdout).toMatch(/^#\s+Step\s+State\s+Started\s+Finished\s+Detail$/m);
    expect(report.stdout).toMatch(/^1\s+plan\s+done/m);
    expect(report.stdout).toMatch(/cancel requested by admin; stopping at the next safe point/);

    const again = await user.run(['cancel-task', String(taskId)]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`task ${taskId} has already ended (cancelled)`);
  });

  it('lists tasks newest first, by cluster and with a limit', async () => {
    const all = JSON.parse((await user.run(['tasks', '--json'])).stdout) as Array<{ id: number; cluster_name: string }>;
    expect(all.length).toBeGreaterThanOrEqual(3);
    expect(all.map((t) => t.id)).toEqual([...all.map((t) => t.id)].sort((a, b) => b - a));

    const human = await user.run(['tasks', '--cluster', 'dev']);
    const lines = human.stdout.trimEnd().split('\n');
    expect(lines[0].split(/\s{2,}/)).toEqual([
      'ID',
      'Type',
      'Cluster',
      'State',
      'Progress',
      'User',
      'Started',
      'Ended',
      'Description',
    ]);
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/)[1])).toEqual(['UPDATE', 'UPDATE', 'CREATE']);
    expect(lines.slice(1).every((l) => /\sdev\s+done\s+(\d+)\/\1\s+admin\s/.test(l))).toBe(true);

    const one = await user.run(['tasks', '-l', '1']);
    expect(one.stdout.trimEnd().split('\n')).toHaveLength(2);
  });

  it('asks before deleting on a terminal and refuses to guess elsewhere', async () => {
    const piped = await user.run(['delete-cluster', 'busy']);
    expect(piped.code).toBe(2);
    expect(piped.stderr).toContain('--non-interactive');

    const no = await user.run(['delete-cluster', 'busy'], { tty: true, input: 'n\n' });
    expect(no.code).toBe(1);
    expect(no.stdout).toContain('Are you sure you want to delete the cluster busy? (y/n): ');
    expect(no.stdout).toContain('nothing was changed');
    expect((await user.run(['cluster', 'busy'])).code).toBe(0);

    const yes = await user.run(['delete-cluster', 'busy', '--wait'], { tty: true, input: 'y\n' });
    expect(yes.stderr).toBe('');
    expect(yes.code).toBe(0);
    expect(yes.stdout).toContain('Cluster busy is deleted.');
  });

  it('deletes a cluster with --wait --non-interactive and exits 0 when it is gone', async () => {
    const run = await user.run(['delete-cluster', 'dev', '--non-interactive', '--wait']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/\[1\/3\] vms-and-disks: done/);
    expect(run.stdout).toContain('Cluster dev is deleted.');
    expect((await user.run(['clusters'])).stdout).toBe('You do not have any clusters at this time.\n');
    const gone = await user.run(['cluster', 'dev']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('Error: cluster "dev" does not exist');
    expect(gone.stderr).toContain('Hint: List clusters with `slipway clusters`.');
  });

  it('logs out: the token is gone, the API address stays, commands say to log in', async () => {
    const out = await user.run(['logout']);
    expect(out.code).toBe(0);
    const stored = JSON.parse(await readFile(user.cliConfig, 'utf8'));
    expect(stored.access_token).toBeUndefined();
    expect(stored.api).toBe(plane.cp.url);
    const plans = await user.run(['plans']);
    expect(plans.code).toBe(1);
    expect(plans.stderr).toContain('Error: you are not logged in');
    expect(plans.stderr).toContain(`slipway login -a ${plane.cp.url} -u USER -p PASSWORD --ca-cert ${plane.cp.caPath}`);
  });
});
