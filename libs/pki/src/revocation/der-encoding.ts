/**
 * The DER encodings (X.690 §8, §10) that CRLs and OCSP responses are built
 * from, written by hand so that the hot paths (a million CRL entries, a
 * response per OCSP request) allocate little and never round-trip through an
 * ASN.1 object model. Every function returns fresh bytes. The basic ones
 * (lengths, TLV, SEQUENCE, OBJECT IDENTIFIER, NULL) are signing/der.ts's,
 * re-exported here.
 */
import * as der from '../signing/der';

// Constants rather than `export { ... } from`: CommonJS output turns a re-export into a getter,
// which every call of a hot loop (a million CRL entries) would go through.
export const concatBytes = der.concatBytes;
export const DER_NULL = der.DER_NULL;
export const derLengthSize = der.derLengthSize;
export const derObjectIdentifier = der.derObjectIdentifier;
export const derSequence = der.derSequence;
export const derTlv = der.derTlv;
export const writeDerLength = der.writeDerLength;

/** Universal tags used by revocation structures (X.680 §8.4). */
export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  objectIdentifier: 0x06,
  enumerated: 0x0a,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
} as const;

/** The tag and length octets of an element with a one-octet tag and `length` content octets. */
export function derHeader(tag: number, length: number): Uint8Array {
  const out = new Uint8Array(1 + derLengthSize(length));
  out[0] = tag;
  writeDerLength(out, 1, length);
  return out;
}

/** OCTET STRING (X.690 §8.7, primitive in DER). */
export function derOctetString(bytes: Uint8Array): Uint8Array {
  return derTlv(TAG.octetString, bytes);
}

/** BOOLEAN TRUE (X.690 §11.1: DER encodes TRUE as 0xFF). */
export const DER_TRUE: Uint8Array = Uint8Array.of(TAG.boolean, 0x01, 0xff);

/**
 * The content octets of a non-negative INTEGER from its unsigned big-endian
 * magnitude (X.690 §8.3.2: minimal, with a 0x00 octet when the top bit is set).
 */
export function unsignedIntegerContent(magnitude: Uint8Array): Uint8Array {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const value = magnitude.subarray(start);
  if (value.length === 0) return Uint8Array.of(0);
  if (value[0] & 0x80) {
    const out = new Uint8Array(value.length + 1);
    out.set(value, 1);
    return out;
  }
  return value.slice();
}

/** Unsigned big-endian magnitude of a non-negative bigint (zero is one 0x00 octet). */
export function bigintMagnitude(value: bigint): Uint8Array {
  if (value < 0n) throw new RangeError(`negative value ${value}`);
  let hex = value.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** INTEGER from a non-negative bigint (X.690 §8.3). */
export function derUnsignedBigint(value: bigint): Uint8Array {
  return derTlv(TAG.integer, unsignedIntegerContent(bigintMagnitude(value)));
}

/** ENUMERATED with a value 0..127 (X.690 §8.4), e.g. CRLReason or OCSPResponseStatus. */
export function derSmallEnumerated(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 127) throw new RangeError(`ENUMERATED ${value} out of range`);
  return Uint8Array.of(TAG.enumerated, 0x01, value);
}

/**
 * An Extension (RFC 5280 §4.1): `SEQUENCE { extnID, critical BOOLEAN DEFAULT
 * FALSE, extnValue OCTET STRING }`. `critical` is only encoded when true
 * (X.690 §11.5: a DEFAULT value is omitted).
 */
export function derExtension(oid: string, critical: boolean, valueDer: Uint8Array): Uint8Array {
  return critical
    ? derSequence(derObjectIdentifier(oid), DER_TRUE, derOctetString(valueDer))
    : derSequence(derObjectIdentifier(oid), derOctetString(valueDer));
}

/** IA5String bytes of a URI, refusing anything outside 7-bit ASCII (RFC 5280 §4.2.1.6). */
export function ia5Bytes(text: string): Uint8Array {
  if (!/^[\x00-\x7f]*$/.test(text)) throw new RangeError(`not an IA5String: ${JSON.stringify(text)}`);
  return Uint8Array.from(Buffer.from(text, 'latin1'));
}
