/**
 * The delegated OCSP signing certificate (RFC 6960 §4.2.2.2): issued by the
 * CA whose certificates the responder answers for, with id-kp-OCSPSigning,
 * and id-pkix-ocsp-nocheck (§4.2.2.2.1) so that clients do not ask about the
 * responder's own certificate. Because it cannot be checked for revocation,
 * its lifetime must be short.
 */
import { OID } from '../oids';
import {
  authorityKeyIdentifierExtension,
  extendedKeyUsageExtension,
  keyIdentifierFromSpki,
  keyUsageExtension,
  ocspNoCheckExtension,
  subjectKeyIdentifierExtension,
} from './extensions';
import { ParentCa, checkParentCa } from './issuer';
import { CaDistinguishedName, encodeDistinguishedName } from './name';
import { CertificateSerialNumber } from './serial-number';
import { SignedCertificate, signCertificate, signedCertificate } from './tbs-certificate';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface OcspSignerCertificateRequest {
  /** The CA that issued the certificates the responder speaks for. */
  issuer: ParentCa;
  subject: CaDistinguishedName;
  subjectPublicKeyInfoDer: Uint8Array;
  notBefore: Date;
  /** Short: refused when more than maxValidityDays after notBefore. */
  notAfter: Date;
  serialNumber: CertificateSerialNumber;
  /** Upper bound on the lifetime, default 90 days (RFC 6960 §4.2.2.2.1: "a short lifetime"). */
  maxValidityDays?: number;
}

/**
 * Signs the responder certificate: keyUsage digitalSignature (critical),
 * extKeyUsage id-kp-OCSPSigning, id-pkix-ocsp-nocheck (NULL), SKI and AKI.
 * No basicConstraints: it is an end-entity certificate (RFC 5280 §4.2.1.9).
 */
export async function buildOcspSignerCertificate(request: OcspSignerCertificateRequest): Promise<SignedCertificate> {
  const maxDays = request.maxValidityDays ?? 90;
  const lifetimeDays = (request.notAfter.getTime() - request.notBefore.getTime()) / DAY_MS;
  if (lifetimeDays > maxDays) {
    throw new RangeError(
      `an OCSP signer certificate of ${lifetimeDays.toFixed(1)} days is longer than ${maxDays} days (RFC 6960 §4.2.2.2.1: short lifetime)`,
    );
  }
  const issuer = checkParentCa(request.issuer, request.notBefore, request.notAfter);
  const der = await signCertificate(
    {
      serialNumber: request.serialNumber,
      issuerDer: issuer.subjectDer,
      notBefore: request.notBefore,
      notAfter: request.notAfter,
      subjectDer: encodeDistinguishedName(request.subject),
      subjectPublicKeyInfoDer: request.subjectPublicKeyInfoDer,
      extensions: [
        keyUsageExtension(['digitalSignature']),
        extendedKeyUsageExtension([OID.idKpOcspSigning]),
        ocspNoCheckExtension(),
        subjectKeyIdentifierExtension(keyIdentifierFromSpki(request.subjectPublicKeyInfoDer)),
        authorityKeyIdentifierExtension(issuer.keyIdentifier),
      ],
    },
    request.issuer.signer,
  );
  return signedCertificate(der, request.serialNumber);
}
