export { generateKeyPair, type KeyAlgorithm } from './keys.js';
export { RsaKeyPool } from './key-pool.js';
export {
  signCertificate,
  signCertificateAsync,
  createCertificate,
  describeCertificate,
  isSignedBy,
  certificateMatchesKey,
  splitPemCertificates,
  pemBundle,
  type CertificateSpec,
  type DistinguishedName,
  type Issuer,
  type KeyUsage,
  type ExtendedKeyUsage,
  type CertificateInfo,
} from './x509.js';
export {
  parseCertificationRequest,
  signCertificationRequest,
  type CertificationRequest,
  type SignedRequest,
} from './csr.js';
export { credentialScope, CREDENTIAL_SCOPES, type CredentialScope, type CredentialScopeRule } from './scopes.js';
