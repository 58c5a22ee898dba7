/**
 * An issuing (subordinate) CA certificate signed by the root
 * (RFC 5280 §4.2.1.9 pathLenConstraint 0, §4.2.1.1 authorityKeyIdentifier).
 */
import { CertificateRejected } from './ca-certificate';
import {
  authorityInfoAccessExtension,
  authorityKeyIdentifierExtension,
  basicConstraintsExtension,
  CertificateExtension,
  certificatePoliciesExtension,
  crlDistributionPointsExtension,
  keyIdentifierFromSpki,
  keyUsageExtension,
  subjectKeyIdentifierExtension,
} from './extensions';
import { ParentCa, checkParentCa } from './issuer';
import { CaDistinguishedName, encodeDistinguishedName } from './name';
import { CertificateSerialNumber } from './serial-number';
import { SignedCertificate, signCertificate, signedCertificate } from './tbs-certificate';

export interface IssuingCaCertificateRequest {
  /** The root (or parent) CA: its key and certificate. */
  issuer: ParentCa;
  subject: CaDistinguishedName;
  /** DER SubjectPublicKeyInfo of the issuing CA key (Signer.publicKeySpki). */
  subjectPublicKeyInfoDer: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  serialNumber: CertificateSerialNumber;
  /** Default 0: the issuing CA issues end-entity certificates only. */
  pathLenConstraint?: number;
  /** Where the parent's CRL (ARL) is published (RFC 5280 §4.2.1.13). */
  crlDistributionPointUrls?: readonly string[];
  /** The parent's OCSP responder and certificate URLs (RFC 5280 §4.2.2.1). */
  authorityInfoAccess?: { ocspUrls?: readonly string[]; caIssuersUrls?: readonly string[] };
  /** E.g. [OID.gpkiClass3Assurance] (DOMAIN.md profile). Omitted when empty. */
  certificatePolicyOids?: readonly string[];
}

/**
 * Signs an issuing CA certificate: issuer name copied byte for byte from the
 * parent's subject, basicConstraints cA with pathLenConstraint (critical),
 * keyUsage keyCertSign + cRLSign (critical), SKI of the new key, AKI = the
 * parent's key identifier.
 */
export async function buildIssuingCaCertificate(request: IssuingCaCertificateRequest): Promise<SignedCertificate> {
  const parent = checkParentCa(request.issuer, request.notBefore, request.notAfter);
  const pathLen = request.pathLenConstraint ?? 0;
  if (parent.pathLenConstraint !== undefined && parent.pathLenConstraint <= pathLen) {
    throw new CertificateRejected(
      parent.subjectText,
      `its pathLenConstraint ${parent.pathLenConstraint} does not allow a CA below it with pathLenConstraint ${pathLen} (RFC 5280 §4.2.1.9)`,
    );
  }
  const extensions: CertificateExtension[] = [
    basicConstraintsExtension(true, pathLen),
    keyUsageExtension(['keyCertSign', 'cRLSign']),
    subjectKeyIdentifierExtension(keyIdentifierFromSpki(request.subjectPublicKeyInfoDer)),
    authorityKeyIdentifierExtension(parent.keyIdentifier),
  ];
  if (request.crlDistributionPointUrls?.length) extensions.push(crlDistributionPointsExtension(request.crlDistributionPointUrls));
  if (request.authorityInfoAccess) extensions.push(authorityInfoAccessExtension(request.authorityInfoAccess));
  if (request.certificatePolicyOids?.length) extensions.push(certificatePoliciesExtension(request.certificatePolicyOids));
  const der = await signCertificate(
    {
      serialNumber: request.serialNumber,
      issuerDer: parent.subjectDer,
      notBefore: request.notBefore,
      notAfter: request.notAfter,
      subjectDer: encodeDistinguishedName(request.subject),
      subjectPublicKeyInfoDer: request.subjectPublicKeyInfoDer,
      extensions,
    },
    request.issuer.signer,
  );
  return signedCertificate(der, request.serialNumber);
}
