/**
 * Builds the DER of a holder's TBSCertificate (RFC 5280 §4.1) from the
 * profile, the request, the issuer and a serial number. The subject is
 * `C=TW, CN=<name>, serialNumber=<holder number>` (DOMAIN.md), one attribute
 * per RDN: countryName and serialNumber as PrintableString (X.520; RFC 5280
 * Appendix A), commonName as UTF8String (RFC 5280 §4.1.2.4).
 */
import { OID } from '../oids';
import { CertificateIssuer } from './certificate-issuer';
import { CertificateProfile } from './certificate-profile';
import {
  authorityInfoAccess,
  authorityKeyIdentifier,
  certificatePolicies,
  crlDistributionPoints,
  emailSubjectAltName,
  freshestCrl,
  keyUsage,
  nationalIdLast4Attribute,
  profileKeyUsage,
  subjectKeyIdentifier,
} from './certificate-extensions';
import { Tag } from './der-reader';
import {
  DerNested,
  derNested,
  derNestedPrintableString,
  derNestedUtf8String,
  derObjectIdentifier,
  derPrintableString,
  derSequence,
  derSet,
  derTime,
} from './der-writer';
import { IssuanceRequest } from './issuance-request';
import { CertificateSerial } from './serial-number';

/** countryName RDNs by country code: one per profile in practice, so encoded once. */
const countryRdns = new Map<string, Uint8Array>();

/** The holder's subject Name (RFC 5280 §4.1.2.6). */
export function holderSubjectName(country: string, holderName: string, holderNumber: string): Uint8Array {
  // One attribute per RDN, so each SET OF has one element and needs no sorting (X.690 §11.6).
  const rdn = (oid: string, value: DerNested) => derNested(Tag.set, derNested(Tag.sequence, derObjectIdentifier(oid), value));
  let countryRdn = countryRdns.get(country);
  if (!countryRdn) {
    countryRdn = derSet(derSequence(derObjectIdentifier(OID.countryName), derPrintableString(country)));
    if (countryRdns.size < 256) countryRdns.set(country, countryRdn);
  }
  return derSequence(countryRdn, rdn(OID.commonName, derNestedUtf8String(holderName)), rdn(OID.serialNumber, derNestedPrintableString(holderNumber)));
}

/**
 * Encodings that depend only on the profile or the issuer, computed once per
 * object (profiles and issuers are immutable values). The lint re-reads every
 * one of them from the TBS, so a stale cache could not go unnoticed.
 */
const encodings = new WeakMap<object, Map<string, Uint8Array>>();

function cached(owner: object, key: string, build: () => Uint8Array): Uint8Array {
  let map = encodings.get(owner);
  if (!map) encodings.set(owner, (map = new Map()));
  let value = map.get(key);
  if (!value) map.set(key, (value = build()));
  return value;
}

/** The TBSCertificate DER. The request must already have been checked against the profile. */
export function buildTbsCertificate(
  request: IssuanceRequest,
  profile: CertificateProfile,
  issuer: CertificateIssuer,
  serial: CertificateSerial,
): Uint8Array {
  const key = request.publicKey.key;
  const extensions = [
    cached(issuer, 'aki', () => authorityKeyIdentifier(issuer)),
    cached(key.spki, 'ski', () => subjectKeyIdentifier(key.spki)),
    cached(profile, `ku:${request.kind}:${key.kind}`, () => keyUsage(profileKeyUsage(profile, request.kind, key.kind))),
    cached(profile, 'cp', () => certificatePolicies(profile.policyOids, profile.cpsUri)),
    nationalIdLast4Attribute(request.nationalIdLast4),
    ...(request.email !== undefined ? [emailSubjectAltName(request.email)] : []),
    cached(profile, `crl:${request.crlPartition}`, () => crlDistributionPoints(profile, request.crlPartition)),
    cached(profile, `delta:${request.crlPartition}`, () => freshestCrl(profile, request.crlPartition)),
    cached(profile, 'aia', () => authorityInfoAccess(profile)),
  ];
  return assembleTbsCertificate({
    serialDer: serial.der,
    signatureAlgorithmDer: issuer.signatureAlgorithmDer,
    issuerDer: issuer.subjectDer,
    notBefore: request.notBefore,
    notAfter: request.notAfter,
    subjectDer: holderSubjectName(profile.country, request.holderName, request.holderNumber),
    subjectPublicKeyInfoDer: key.spki,
    extensions,
  });
}

/** The encoded parts of a TBSCertificate (RFC 5280 §4.1). */
export interface TbsCertificateParts {
  readonly serialDer: Uint8Array;
  readonly signatureAlgorithmDer: Uint8Array;
  readonly issuerDer: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly subjectDer: Uint8Array;
  readonly subjectPublicKeyInfoDer: Uint8Array;
  /** Encoded Extension elements, in order. */
  readonly extensions: readonly Uint8Array[];
}

/** Assembles a v3 TBSCertificate from encoded parts (the lint tests also build broken ones with it). */
export function assembleTbsCertificate(parts: TbsCertificateParts): Uint8Array {
  // Written into one allocation: the nested parts are laid out in place.
  return derSequence(
    VERSION_V3,
    parts.serialDer,
    parts.signatureAlgorithmDer,
    parts.issuerDer,
    derNested(Tag.sequence, derTime(parts.notBefore), derTime(parts.notAfter)),
    parts.subjectDer,
    parts.subjectPublicKeyInfoDer,
    derNested(0xa3, derNested(Tag.sequence, ...parts.extensions)),
  );
}

/** version [0] EXPLICIT INTEGER v3 (RFC 5280 §4.1.2.1); only ever copied into a TBS. */
const VERSION_V3 = Uint8Array.of(0xa0, 0x03, 0x02, 0x01, 0x02);
