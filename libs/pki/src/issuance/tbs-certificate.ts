/**
 * Builds the DER of a holder's TBSCertificate (RFC 5280 §4.1) from the
 * profile, the request, the issuer and a serial number. The subject is
 * `C=TW, CN=<name>, serialNumber=<holder number>` (DOMAIN.md), one attribute
 * per RDN: countryName and serialNumber as PrintableString (X.520; RFC 5280
 * Appendix A), commonName as UTF8String (RFC 5280 §4.1.2.4).
 */
import { OID } from '../oids';
import { CertificateIssuer } from './certificate-issuer';
import { CertificateKind, CertificateProfile } from './certificate-profile';
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
  concatBytes,
  DerNested,
  DerPart,
  derNested,
  derNestedPrintableString,
  derNestedUtf8String,
  derObjectIdentifier,
  derPrintableString,
  derSequence,
  derSet,
  derTime,
  derTlv,
} from './der-writer';
import { IssuanceRequest } from './issuance-request';
import { CertificateSerial } from './serial-number';

/** countryName RDNs by country code: one per profile in practice, so encoded once. */
const countryRdns = new Map<string, Uint8Array>();

/** The holder's subject Name (RFC 5280 §4.1.2.6). */
export function holderSubjectName(country: string, holderName: string, holderNumber: string): Uint8Array {
  return derTlv(Tag.sequence, ...holderSubjectNested(country, holderName, holderNumber).parts);
}

/** {@link holderSubjectName}, to be written in place inside the TBSCertificate. */
function holderSubjectNested(country: string, holderName: string, holderNumber: string): DerNested {
  // One attribute per RDN, so each SET OF has one element and needs no sorting (X.690 §11.6).
  const rdn = (oid: Uint8Array, value: DerNested) => derNested(Tag.set, derNested(Tag.sequence, oid, value));
  let countryRdn = countryRdns.get(country);
  if (!countryRdn) {
    countryRdn = derSet(derSequence(derObjectIdentifier(OID.countryName), derPrintableString(country)));
    if (countryRdns.size < 256) countryRdns.set(country, countryRdn);
  }
  return derNested(Tag.sequence, countryRdn, rdn(COMMON_NAME, derNestedUtf8String(holderName)), rdn(SERIAL_NUMBER, derNestedPrintableString(holderNumber)));
}

const COMMON_NAME = derObjectIdentifier(OID.commonName);
const SERIAL_NUMBER = derObjectIdentifier(OID.serialNumber);

/**
 * The parts of a holder TBSCertificate that depend only on the issuer and
 * the profile (and the CRL partition), encoded once and copied into every
 * TBS: what each certificate writes itself is its serial, validity,
 * subject, key, SKI and directory attribute (and e-mail SAN). The lint
 * reads every one of these parts back from the TBS and checks it against
 * the profile and the issuer on its own, so a stale part could not go
 * unnoticed.
 */
interface IssuerProfileParts {
  /** TBSCertificate.signature followed by issuer (RFC 5280 §4.1.2.3, §4.1.2.4). */
  readonly algorithmAndIssuer: Uint8Array;
  readonly authorityKeyIdentifier: Uint8Array;
  /** keyUsage then certificatePolicies, by certificate kind and key type. */
  readonly keyUsageAndPolicies: Readonly<Record<CertificateKind, Record<'RSA' | 'EC', Uint8Array>>>;
  /** cRLDistributionPoints, freshestCRL and authorityInfoAccess, by CRL partition (filled as partitions are used). */
  readonly tails: Map<number, Uint8Array>;
}

/** Partitions remembered per issuer and profile: a profile has at most a few thousand. */
const MAX_CACHED_PARTITIONS = 4096;

const issuerProfileParts = new WeakMap<CertificateIssuer, WeakMap<CertificateProfile, IssuerProfileParts>>();

function partsFor(issuer: CertificateIssuer, profile: CertificateProfile): IssuerProfileParts {
  let byProfile = issuerProfileParts.get(issuer);
  if (!byProfile) issuerProfileParts.set(issuer, (byProfile = new WeakMap()));
  let parts = byProfile.get(profile);
  if (!parts) {
    const policies = certificatePolicies(profile.policyOids, profile.cpsUri);
    const usageAndPolicies = (kind: CertificateKind, keyKind: 'RSA' | 'EC') => concatBytes([keyUsage(profileKeyUsage(profile, kind, keyKind)), policies]);
    parts = {
      algorithmAndIssuer: concatBytes([issuer.signatureAlgorithmDer, issuer.subjectDer]),
      authorityKeyIdentifier: authorityKeyIdentifier(issuer),
      keyUsageAndPolicies: {
        signature: { RSA: usageAndPolicies('signature', 'RSA'), EC: usageAndPolicies('signature', 'EC') },
        encryption: { RSA: usageAndPolicies('encryption', 'RSA'), EC: usageAndPolicies('encryption', 'EC') },
      },
      tails: new Map(),
    };
    byProfile.set(profile, parts);
  }
  return parts;
}

function partitionTail(parts: IssuerProfileParts, profile: CertificateProfile, partition: number): Uint8Array {
  let tail = parts.tails.get(partition);
  if (!tail) {
    tail = concatBytes([crlDistributionPoints(profile, partition), freshestCrl(profile, partition), authorityInfoAccess(profile)]);
    if (parts.tails.size < MAX_CACHED_PARTITIONS) parts.tails.set(partition, tail);
  }
  return tail;
}

/** subjectKeyIdentifier extensions by SPKI (the key objects of checked requests are kept by the caller while it issues). */
const subjectKeyIdentifiers = new WeakMap<Uint8Array, Uint8Array>();

/** The TBSCertificate DER. The request must already have been checked against the profile. */
export function buildTbsCertificate(
  request: IssuanceRequest,
  profile: CertificateProfile,
  issuer: CertificateIssuer,
  serial: CertificateSerial,
): Uint8Array {
  const key = request.publicKey.key;
  const parts = partsFor(issuer, profile);
  let ski = subjectKeyIdentifiers.get(key.spki);
  if (!ski) subjectKeyIdentifiers.set(key.spki, (ski = subjectKeyIdentifier(key.spki)));
  const extensions: DerPart[] = [
    parts.authorityKeyIdentifier,
    ski,
    parts.keyUsageAndPolicies[request.kind][key.kind],
    nationalIdLast4Attribute(request.nationalIdLast4),
  ];
  if (request.email !== undefined) extensions.push(emailSubjectAltName(request.email));
  extensions.push(partitionTail(parts, profile, request.crlPartition));
  // Written into one allocation (RFC 5280 §4.1 field order); the same layout as assembleTbsCertificate.
  return derSequence(
    VERSION_V3,
    serial.der,
    parts.algorithmAndIssuer,
    derNested(Tag.sequence, derTime(request.notBefore), derTime(request.notAfter)),
    holderSubjectNested(profile.country, request.holderName, request.holderNumber),
    key.spki,
    derNested(0xa3, derNested(Tag.sequence, ...extensions)),
  );
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
