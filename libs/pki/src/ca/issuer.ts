/**
 * The CA that signs a certificate: its key and its own certificate, checked
 * to belong together before anything is signed.
 */
import { Signer } from '../signing/signer';
import { assertCaCertificate, CertificateRejected, parseCertificate, ParsedCertificate } from './ca-certificate';

export interface ParentCa {
  signer: Signer;
  /** DER of the issuer's certificate. */
  certificateDer: Uint8Array;
}

/**
 * Parses the issuer certificate and checks that it is a CA certificate valid
 * for the whole of notBefore..notAfter and that the signer holds its key.
 * A certificate must not outlive its issuer: relying parties would reject
 * it after the issuer expires (RFC 5280 §6.1.3 (a)(2)).
 */
export function checkParentCa(issuer: ParentCa, notBefore: Date, notAfter: Date): ParsedCertificate {
  const parsed = parseCertificate(issuer.certificateDer);
  assertCaCertificate(parsed, notBefore);
  if (notAfter.getTime() > parsed.notAfter.getTime()) {
    throw new CertificateRejected(
      parsed.subjectText,
      `the new certificate would be valid until ${notAfter.toISOString()}, after its issuer expires (${parsed.notAfter.toISOString()})`,
    );
  }
  if (!Buffer.from(parsed.subjectPublicKeyInfoDer).equals(Buffer.from(issuer.signer.publicKeySpki))) {
    throw new CertificateRejected(parsed.subjectText, `the key ${issuer.signer.keyLabel} is not this certificate's key`);
  }
  return parsed;
}
