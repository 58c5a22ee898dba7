// The CA certificates: root, issuing CA (own root or external parent), delegated OCSP signer.
// Extension and TBS encoders stay internal to this folder (issuance has its own).
export type { CaDistinguishedName, CaNameAttribute, CaNameAttributeType } from './name';
export { encodeDistinguishedName } from './name';
export type { CertificateSerialNumber } from './serial-number';
export { randomSerialNumber, serialNumberFromMagnitude, assertValidSerialNumber, serialNumberHex } from './serial-number';
export type { SignedCertificate } from './tbs-certificate';
export { derToPem, pemToDer, encodeCertificateTime } from './tbs-certificate';
export type { ParsedCertificate } from './ca-certificate';
export { CertificateRejected, parseCertificate, assertCaCertificate, assertValidAt, isSignedBy } from './ca-certificate';
export type { ParentCa } from './issuer';
export type { RootCaCertificateRequest } from './root-ca-certificate';
export { buildRootCaCertificate } from './root-ca-certificate';
export type { IssuingCaCertificateRequest } from './issuing-ca-certificate';
export { buildIssuingCaCertificate } from './issuing-ca-certificate';
export type { OcspSignerCertificateRequest } from './ocsp-signer-certificate';
export { buildOcspSignerCertificate } from './ocsp-signer-certificate';
export type { CaCertificateRequestOptions, ParentIssuedCertificate } from './ca-certificate-request';
export { buildCaCertificateRequest, acceptParentIssuedCertificate } from './ca-certificate-request';
