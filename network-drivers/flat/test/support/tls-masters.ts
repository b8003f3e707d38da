import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';

/** A self-signed certificate (openssl) whose SANs hold every address clients will use: the VIP and each master. */
export function apiCertificate(addresses: string[]): { cert: string; key: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'flat-tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=kube-apiserver',
      '-addext',
      `subjectAltName=${addresses.map((a) => `IP:${a}`).join(',')}`,
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  return { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8'), dir };
}

// A TLS server in its own process (as a master's kube-apiserver is): it greets with its name and echoes.
const SERVER = `
const tls = require('node:tls');
const [name, host, port, certFile, keyFile] = process.argv.slice(1);
const fs = require('node:fs');
const server = tls.createServer({ cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) }, (s) => {
  s.write(name + '\\n');
  s.on('data', (d) => s.write(d));
  s.on('error', () => {});
});
server.listen(Number(port), host, () => process.stdout.write('listening\\n'));
`;

/** Starts a master's TLS server on `address:port` in a child process; resolves once it listens. */
export async function startMaster(name: string, address: string, port: number, tlsDir: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['-e', SERVER, name, address, String(port), join(tlsDir, 'cert.pem'), join(tlsDir, 'key.pem')],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`master ${name} exited with ${code}`)));
  });
  return child;
}

/** One TLS handshake to `address:port` verified against `ca`; resolves with the server's greeting. */
export function greet(address: string, port: number, ca: string, timeoutMs = 2_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address, port, ca, timeout: timeoutMs }, () => undefined);
    socket.once('data', (d) => {
      resolve(d.toString().trim());
      socket.end();
    });
    socket.once('timeout', () => socket.destroy(new Error('timed out')));
    socket.once('error', reject);
  });
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
