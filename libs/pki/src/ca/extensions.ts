/**
 * The certificate extensions CA and OCSP-signer certificates carry
 * (RFC 5280 §4.2, RFC 6960 §4.2.2.2), as DER.
 */
import { createHash } from 'node:crypto';
import { OID } from '../oids';
import { DER_NULL, derObjectIdentifier, derSequence, derTlv, derUnsignedInteger, readDerHeader } from '../signing/der';
import { KEY_USAGE_BITS, KeyUsageName } from '../issuance/certificate-profile';

/** One Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } (RFC 5280 §4.1). */
export interface CertificateExtension {
  oid: string;
  critical: boolean;
  /** The DER value that goes inside extnValue's OCTET STRING. */
  valueDer: Uint8Array;
}

/** DER of one Extension; `critical` FALSE is omitted (X.690 §11.5, DEFAULT values). */
export function encodeExtension(extension: CertificateExtension): Uint8Array {
  return derSequence(
    derObjectIdentifier(extension.oid),
    ...(extension.critical ? [Uint8Array.of(0x01, 0x01, 0xff)] : []),
    derTlv(0x04, extension.valueDer),
  );
}

/** RFC 5280 §4.2.1.9. CA certificates mark it critical. */
export function basicConstraintsExtension(ca: boolean, pathLenConstraint?: number): CertificateExtension {
  if (pathLenConstraint !== undefined && (!ca || !Number.isInteger(pathLenConstraint) || pathLenConstraint < 0)) {
    throw new RangeError('pathLenConstraint is a non-negative integer and only for CA certificates');
  }
  const fields: Uint8Array[] = [];
  if (ca) fields.push(Uint8Array.of(0x01, 0x01, 0xff));
  if (pathLenConstraint !== undefined) fields.push(derUnsignedInteger(integerMagnitude(pathLenConstraint)));
  return { oid: OID.basicConstraints, critical: true, valueDer: derSequence(...fields) };
}

/** KeyUsage bit names (RFC 5280 §4.2.1.3); the one table of their positions is the profile's. */
export type KeyUsageBit = KeyUsageName;

export function keyUsageExtension(usages: readonly KeyUsageBit[]): CertificateExtension {
  if (usages.length === 0) throw new RangeError('keyUsage needs at least one bit (RFC 5280 §4.2.1.3)');
  const bits = usages.map((usage) => KEY_USAGE_BITS[usage]);
  const length = Math.max(...bits) + 1;
  const bytes = new Uint8Array(Math.ceil(length / 8));
  for (const bit of bits) bytes[bit >> 3] |= 0x80 >> (bit & 7);
  const unusedBits = bytes.length * 8 - length;
  return { oid: OID.keyUsage, critical: true, valueDer: derTlv(0x03, Uint8Array.of(unusedBits), bytes) };
}

/**
 * The key identifier of RFC 5280 §4.2.1.2 method (1): SHA-1 of the
 * subjectPublicKey BIT STRING's value (without tag, length and unused-bits octet).
 */
export function keyIdentifierFromSpki(spkiDer: Uint8Array): Uint8Array {
  const spki = readDerHeader(spkiDer);
  const algorithm = readDerHeader(spkiDer, spki.contentStart);
  const bitString = readDerHeader(spkiDer, algorithm.end);
  if (spki.tag !== 0x30 || algorithm.tag !== 0x30 || bitString.tag !== 0x03) {
    throw new RangeError('not a SubjectPublicKeyInfo');
  }
  const subjectPublicKey = spkiDer.subarray(bitString.contentStart + 1, bitString.end);
  return new Uint8Array(createHash('sha1').update(subjectPublicKey).digest());
}

/** RFC 5280 §4.2.1.2, non-critical. */
export function subjectKeyIdentifierExtension(keyIdentifier: Uint8Array): CertificateExtension {
  return { oid: OID.subjectKeyIdentifier, critical: false, valueDer: derTlv(0x04, keyIdentifier) };
}

/** RFC 5280 §4.2.1.1, non-critical: keyIdentifier [0] only. */
export function authorityKeyIdentifierExtension(keyIdentifier: Uint8Array): CertificateExtension {
  return { oid: OID.authorityKeyIdentifier, critical: false, valueDer: derSequence(derTlv(0x80, keyIdentifier)) };
}

/** RFC 5280 §4.2.1.12, non-critical. */
export function extendedKeyUsageExtension(purposeOids: readonly string[]): CertificateExtension {
  return {
    oid: OID.extKeyUsage,
    critical: false,
    valueDer: derSequence(...purposeOids.map((oid) => derObjectIdentifier(oid))),
  };
}

/** RFC 6960 §4.2.2.2.1: id-pkix-ocsp-nocheck, value NULL, non-critical. */
export function ocspNoCheckExtension(): CertificateExtension {
  return { oid: OID.idPkixOcspNocheck, critical: false, valueDer: DER_NULL };
}

/** RFC 5280 §4.2.1.13, non-critical: one DistributionPoint with fullName URIs. */
export function crlDistributionPointsExtension(urls: readonly string[]): CertificateExtension {
  const generalNames = urls.map((url) => derTlv(0x86, ia5(url)));
  return {
    oid: OID.cRLDistributionPoints,
    critical: false,
    valueDer: derSequence(derSequence(derTlv(0xa0, derTlv(0xa0, ...generalNames)))),
  };
}

/** RFC 5280 §4.2.2.1, non-critical: OCSP and caIssuers URIs. */
export function authorityInfoAccessExtension(access: { ocspUrls?: readonly string[]; caIssuersUrls?: readonly string[] }): CertificateExtension {
  const descriptions = [
    ...(access.ocspUrls ?? []).map((url) => derSequence(derObjectIdentifier(OID.idAdOcsp), derTlv(0x86, ia5(url)))),
    ...(access.caIssuersUrls ?? []).map((url) =>
      derSequence(derObjectIdentifier(OID.idAdCaIssuers), derTlv(0x86, ia5(url))),
    ),
  ];
  if (descriptions.length === 0) throw new RangeError('authorityInfoAccess needs at least one URL');
  return { oid: OID.authorityInfoAccess, critical: false, valueDer: derSequence(...descriptions) };
}

/** RFC 5280 §4.2.1.4, non-critical: policy OIDs without qualifiers. */
export function certificatePoliciesExtension(policyOids: readonly string[]): CertificateExtension {
  return {
    oid: OID.certificatePolicies,
    critical: false,
    valueDer: derSequence(...policyOids.map((oid) => derSequence(derObjectIdentifier(oid)))),
  };
}

function ia5(text: string): Uint8Array {
  if (!/^[\x20-\x7e]+$/.test(text)) throw new RangeError(`"${text}" is not an ASCII URI (IA5String)`);
  return new TextEncoder().encode(text);
}

function integerMagnitude(value: number): Uint8Array {
  const octets: number[] = [];
  for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest % 256);
  return Uint8Array.from(octets.length ? octets : [0]);
}

