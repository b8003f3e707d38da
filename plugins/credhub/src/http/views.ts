import type { CertificateValue, Credential } from '@slipway/contracts';
import type { CertificateFacts } from '../vault.js';

/**
 * CredHub's credential view: `type, version_created_at, id, name, metadata, value`; certificates add
 * `expiry_date, certificate_authority, self_signed, generated, transitional`, and a generate response
 * adds `duration_used` (CredHub's CertificateGenerationView).
 */
export function credentialView(
  credential: Credential,
  options: { generation?: boolean } = {},
): Record<string, unknown> {
  const view: Record<string, unknown> = {
    type: credential.type,
    version_created_at: credential.version_created_at,
    id: credential.id,
    name: credential.name,
    metadata: credential.metadata ?? null,
    value: valueView(credential),
  };
  if (credential.type === 'certificate') {
    const facts = credential as Credential & Partial<CertificateFacts>;
    Object.assign(view, {
      expiry_date: credential.expiry_date ?? '',
      certificate_authority: facts.certificate_authority ?? false,
      self_signed: facts.self_signed ?? false,
      generated: facts.generated ?? false,
      transitional: credential.transitional ?? false,
    });
    if (options.generation)
      Object.assign(view, { duration_overridden: false, duration_used: durationDays(credential) });
  }
  return view;
}

function valueView(credential: Credential): unknown {
  if (credential.type !== 'certificate') return credential.value;
  // CredHub's certificate value holds ca, certificate and private_key; the signer's name is in /certificates.
  const { ca, certificate, private_key } = credential.value as CertificateValue;
  return { ca, certificate, private_key };
}

function durationDays(credential: Credential): number {
  if (!credential.expiry_date) return 0;
  return Math.round((Date.parse(credential.expiry_date) - Date.parse(credential.version_created_at)) / 86_400_000);
}
