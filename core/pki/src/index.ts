export { generateKeyPair, type KeyAlgorithm } from './keys.js';
export {
  signCertificate, createCertificate, describeCertificate, isSignedBy,
  type CertificateSpec, type DistinguishedName, type Issuer, type KeyUsage, type ExtendedKeyUsage, type CertificateInfo,
} from './x509.js';
