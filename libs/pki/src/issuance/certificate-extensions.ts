/**
 * The extensions of a holder certificate (RFC 5280 §4.2), encoded from the
 * profile and the request. Only keyUsage is critical: RFC 5280 §4.2.1.3 says
 * it SHOULD be, and nothing else in an end-entity certificate has to be
 * (DOMAIN.md: "no critical extension beyond what RFC 5280 requires").
 */
import { OID } from '../oids';
import { CertificateIssuer, keyIdentifier } from './certificate-issuer';
import { CertificateKind, CertificateProfile, KEY_USAGE_BITS, KeyUsageName, profileUrl } from './certificate-profile';
import { Tag } from './der-reader';
import {
  DER_TRUE,
  DerPart,
  derIa5String,
  derNested,
  derNestedPrintableString,
  derNamedBits,
  derObjectIdentifier,
  derOctetString,
  derSequence,
  derTlv,
} from './der-writer';

/** GeneralName uniformResourceIdentifier [6] IA5String (RFC 5280 §4.2.1.6). */
function uriName(url: string): Uint8Array {
  return derIa5String(url, 0x86);
}

/** Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } (RFC 5280 §4.1). */
export function derExtension(oid: string, critical: boolean, value: DerPart): Uint8Array {
  const extnValue = derNested(Tag.octetString, value);
  return critical
    ? derSequence(derObjectIdentifier(oid), DER_TRUE, extnValue)
    : derSequence(derObjectIdentifier(oid), extnValue); // DER omits the DEFAULT FALSE
}

/** authorityKeyIdentifier with keyIdentifier [0] only (RFC 5280 §4.2.1.1). */
export function authorityKeyIdentifier(issuer: CertificateIssuer): Uint8Array {
  return derExtension(OID.authorityKeyIdentifier, false, derSequence(derTlv(0x80, issuer.subjectKeyIdentifier)));
}

/** subjectKeyIdentifier, method (1) of RFC 5280 §4.2.1.2. */
export function subjectKeyIdentifier(spki: Uint8Array): Uint8Array {
  return derExtension(OID.subjectKeyIdentifier, false, derOctetString(keyIdentifier(spki)));
}

/** keyUsage (RFC 5280 §4.2.1.3), critical. */
export function keyUsage(usages: readonly KeyUsageName[]): Uint8Array {
  return derExtension(OID.keyUsage, true, derNamedBits(usages.map((usage) => KEY_USAGE_BITS[usage])));
}

/** The key usages the profile gives a certificate of this kind for this key type. */
export function profileKeyUsage(profile: CertificateProfile, kind: CertificateKind, keyKind: 'RSA' | 'EC'): readonly KeyUsageName[] {
  return profile.keyUsage[kind][keyKind];
}

/** certificatePolicies (RFC 5280 §4.2.1.4), with an optional CPS pointer qualifier. */
export function certificatePolicies(policyOids: readonly string[], cpsUri?: string): Uint8Array {
  const qualifiers = cpsUri ? [derSequence(derSequence(derObjectIdentifier(OID.idQtCps), derIa5String(cpsUri)))] : [];
  return derExtension(
    OID.certificatePolicies,
    false,
    derSequence(...policyOids.map((oid) => derSequence(derObjectIdentifier(oid), ...qualifiers))),
  );
}

/**
 * subjectDirectoryAttributes (RFC 5280 §4.2.1.8, MUST be non-critical) with
 * the single MOICA attribute 2.16.886.1.100.2.51: the last 4 digits of the
 * national ID number as a PrintableString, and nothing more of it (DOMAIN.md).
 */
export function nationalIdLast4Attribute(last4: string): Uint8Array {
  if (!/^[0-9]{4}$/.test(last4)) throw new RangeError('the national ID excerpt is exactly 4 digits');
  // One value, so the SET OF needs no sorting (X.690 §11.6).
  return derExtension(
    OID.subjectDirectoryAttributes,
    false,
    derNested(Tag.sequence, derNested(Tag.sequence, derObjectIdentifier(OID.moicaIdLast4Digits), derNested(Tag.set, derNestedPrintableString(last4)))),
  );
}

/** subjectAltName with one rfc822Name [1] IA5String (RFC 5280 §4.2.1.6); non-critical since the subject is not empty. */
export function emailSubjectAltName(email: string): Uint8Array {
  return derExtension(OID.subjectAltName, false, derSequence(derIa5String(email, 0x81)));
}

/** DistributionPoint { distributionPoint [0] { fullName [0] { URI } } } (RFC 5280 §4.2.1.13). */
function distributionPoints(oid: string, url: string): Uint8Array {
  return derExtension(oid, false, derSequence(derSequence(derTlv(0xa0, derTlv(0xa0, uriName(url))))));
}

/** cRLDistributionPoints naming the certificate's CRL partition (RFC 5280 §4.2.1.13). */
export function crlDistributionPoints(profile: CertificateProfile, partition: number): Uint8Array {
  return distributionPoints(OID.cRLDistributionPoints, profileUrl(profile.crlUrlTemplate, profile, partition));
}

/** freshestCRL pointing at the partition's delta CRL (RFC 5280 §4.2.1.15, non-critical). */
export function freshestCrl(profile: CertificateProfile, partition: number): Uint8Array {
  return distributionPoints(OID.freshestCRL, profileUrl(profile.deltaCrlUrlTemplate, profile, partition));
}

/** authorityInfoAccess with id-ad-ocsp and id-ad-caIssuers (RFC 5280 §4.2.2.1). */
export function authorityInfoAccess(profile: CertificateProfile): Uint8Array {
  return derExtension(
    OID.authorityInfoAccess,
    false,
    derSequence(
      derSequence(derObjectIdentifier(OID.idAdOcsp), uriName(profileUrl(profile.ocspUrl, profile))),
      derSequence(derObjectIdentifier(OID.idAdCaIssuers), uriName(profileUrl(profile.caIssuersUrl, profile))),
    ),
  );
}
