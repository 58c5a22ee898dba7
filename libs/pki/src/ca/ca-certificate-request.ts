/**
 * An issuing CA whose parent is outside this system (e.g. the national root
 * of another agency): a PKCS#10 request for the issuing CA key (RFC 2986),
 * then the parent's certificate, checked before it is used.
 */
import { OID } from '../oids';
import { derObjectIdentifier, derSequence, derTlv } from '../signing/der';
import { assembleSigned } from '../signing/signed-structure';
import { Signer } from '../signing/signer';
import { assertCaCertificate, CertificateRejected, isSignedBy, parseCertificate, ParsedCertificate } from './ca-certificate';
import { basicConstraintsExtension, encodeExtension, keyUsageExtension } from './extensions';
import { CaDistinguishedName, encodeDistinguishedName } from './name';
import { derToPem } from './tbs-certificate';

export interface CaCertificateRequestOptions {
  /** The issuing CA key. The request is signed with it (proof of possession, RFC 2986 §3). */
  signer: Signer;
  subject: CaDistinguishedName;
  /** Requested pathLenConstraint, default 0. */
  pathLenConstraint?: number;
}

/**
 * DER and PEM of a CertificationRequest (RFC 2986 §4) asking for a CA
 * certificate: an extensionRequest attribute (PKCS#9, RFC 2985 §5.4.2) with
 * basicConstraints cA (critical) and keyUsage keyCertSign + cRLSign
 * (critical). The parent decides what it finally signs; see
 * {@link acceptParentIssuedCertificate}.
 */
export async function buildCaCertificateRequest(
  options: CaCertificateRequestOptions,
): Promise<{ der: Uint8Array; pem: string }> {
  const requestedExtensions = derSequence(
    encodeExtension(basicConstraintsExtension(true, options.pathLenConstraint ?? 0)),
    encodeExtension(keyUsageExtension(['keyCertSign', 'cRLSign'])),
  );
  const certificationRequestInfo = derSequence(
    Uint8Array.of(0x02, 0x01, 0x00), // version v1(0)
    encodeDistinguishedName(options.subject),
    options.signer.publicKeySpki,
    // attributes [0] IMPLICIT SET OF Attribute
    derTlv(0xa0, derSequence(derObjectIdentifier(OID.extensionRequest), derTlv(0x31, requestedExtensions))),
  );
  const der = await assembleSigned(certificationRequestInfo, options.signer);
  return { der, pem: derToPem(der, 'CERTIFICATE REQUEST') };
}

export interface ParentIssuedCertificate {
  /** What the parent returned. */
  certificateDer: Uint8Array;
  /** The issuing CA key the request was made for. */
  signer: Signer;
  /** The parent's certificate, to check the issuer name and signature (recommended). */
  parentCertificateDer?: Uint8Array;
  /** When the certificate is taken into use. */
  now: Date;
}

/**
 * Checks a certificate returned by an external parent before the issuing CA
 * uses it: it certifies exactly this key, it is a CA (basicConstraints cA;
 * keyUsage keyCertSign and cRLSign, since the issuing CA also signs CRLs),
 * it is valid at `now`, and, when the parent's certificate is given, its
 * issuer name is the parent's subject and its signature verifies with the
 * parent's key (RFC 5280 §6.1.3 (a)). Throws CertificateRejected.
 */
export function acceptParentIssuedCertificate(input: ParentIssuedCertificate): ParsedCertificate {
  const certificate = parseCertificate(input.certificateDer);
  if (!Buffer.from(certificate.subjectPublicKeyInfoDer).equals(Buffer.from(input.signer.publicKeySpki))) {
    throw new CertificateRejected(certificate.subjectText, `it certifies another key than ${input.signer.keyLabel}`);
  }
  assertCaCertificate(certificate, input.now);
  if (!certificate.keyUsage) throw new CertificateRejected(certificate.subjectText, 'it has no keyUsage extension');
  if (!certificate.keyUsage.cRLSign) throw new CertificateRejected(certificate.subjectText, 'keyUsage lacks cRLSign');
  if (input.parentCertificateDer) {
    const parent = parseCertificate(input.parentCertificateDer);
    if (!parent.isCa) throw new CertificateRejected(parent.subjectText, 'the parent certificate is not a CA');
    if (!Buffer.from(certificate.issuerDer).equals(Buffer.from(parent.subjectDer))) {
      throw new CertificateRejected(certificate.subjectText, `its issuer is not "${parent.subjectText}"`);
    }
    if (!isSignedBy(certificate.der, parent.subjectPublicKeyInfoDer)) {
      throw new CertificateRejected(certificate.subjectText, `its signature does not verify with the key of "${parent.subjectText}"`);
    }
  }
  return certificate;
}
