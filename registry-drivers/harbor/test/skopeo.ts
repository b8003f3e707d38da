import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const SKOPEO = process.env.SLIPWAY_SKOPEO ?? '/usr/bin/skopeo';

/** skopeo with a cert dir holding the registry's CA (`ca.crt`), as containers/image reads trust per registry. */
export class Skopeo {
  private constructor(readonly certDir: string) {}

  static async withCa(caPem: string): Promise<Skopeo> {
    const certDir = await mkdtemp(join(tmpdir(), 'slipway-skopeo-'));
    await writeFile(join(certDir, 'ca.crt'), caPem);
    return new Skopeo(certDir);
  }

  /** Copies `from` to `to`; resolves with the exit status and stderr instead of throwing on a refusal. */
  async copy(
    from: string,
    to: string,
    creds: { src?: string; dest?: string },
  ): Promise<{ ok: boolean; stderr: string }> {
    const args = ['copy', '--quiet', '--src-cert-dir', this.certDir, '--dest-cert-dir', this.certDir];
    if (creds.src) args.push('--src-creds', creds.src);
    if (creds.dest) args.push('--dest-creds', creds.dest);
    return outcome(run(SKOPEO, [...args, from, to], { maxBuffer: 1 << 20 }));
  }

  async inspect(ref: string, creds: string): Promise<{ ok: boolean; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(SKOPEO, [
        'inspect',
        '--raw',
        '--cert-dir',
        this.certDir,
        '--creds',
        creds,
        ref,
      ]);
      return { ok: true, stdout, stderr };
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string };
      return { ok: false, stdout: e.stdout ?? '', stderr: e.stderr ?? String(error) };
    }
  }

  async cleanup(): Promise<void> {
    await rm(this.certDir, { recursive: true, force: true });
  }
}

async function outcome(call: Promise<{ stdout: string; stderr: string }>): Promise<{ ok: boolean; stderr: string }> {
  try {
    const { stderr } = await call;
    return { ok: true, stderr };
  } catch (error) {
    return { ok: false, stderr: (error as { stderr?: string }).stderr ?? String(error) };
  }
}
