import { SlipwayError, type TlsMaterial } from '@slipway/contracts';
import type { RenderContext, RenderedFile } from './job-definition.js';

/** The files of one certificate role under the job's tls/ directory. */
export interface TlsPaths {
  cert: string;
  key: string;
  ca: string;
}

/**
 * Renders a certificate role of the properties as PEM files: `tls/{role}.pem` (0644), `tls/{role}-key.pem`
 * (0600) and `tls/{role}-ca.pem` (0644). Throws when the control plane did not send the role.
 */
export function tlsFiles(
  context: RenderContext,
  role: string,
  parts: Array<'cert' | 'key' | 'ca'> = ['cert', 'key', 'ca'],
): { files: RenderedFile[]; paths: TlsPaths } {
  const material = requireRole(context.tls, role);
  const paths: TlsPaths = {
    cert: context.file(`tls/${role}.pem`),
    key: context.file(`tls/${role}-key.pem`),
    ca: context.file(`tls/${role}-ca.pem`),
  };
  const files: RenderedFile[] = [];
  for (const part of parts) {
    const content = part === 'cert' ? material.certificate : part === 'key' ? material.privateKey : material.ca;
    if (!content)
      throw new SlipwayError(
        'InvalidInput',
        `the control plane sent tls.${role} without its ${part === 'cert' ? 'certificate' : part === 'key' ? 'private key' : 'CA'}`,
      );
    files.push({ path: paths[part], content: ensureNewline(content), mode: part === 'key' ? 0o600 : 0o644 });
  }
  return { files, paths };
}

/** A CA certificate alone (`tls/{role}.pem`), from a role's `certificate` (a CA credential) or its `ca`. */
export function caFile(context: RenderContext, role: string): { file: RenderedFile; path: string } {
  const material = requireRole(context.tls, role);
  const pem = material.certificate ?? material.ca;
  if (!pem) throw new SlipwayError('InvalidInput', `the control plane sent tls.${role} without a certificate`);
  const path = context.file(`tls/${role}.pem`);
  return { file: { path, content: ensureNewline(pem), mode: 0o644 }, path };
}

export function requireRole(tls: Record<string, TlsMaterial>, role: string): TlsMaterial {
  const material = tls[role];
  if (!material)
    throw new SlipwayError('InvalidInput', `the control plane sent no tls.${role} for this node`, {
      details: { role },
    });
  return material;
}

export function ensureNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}
