/**
 * The DER encodings (X.690 §8, §10) that CRLs and OCSP responses are built
 * from, written by hand so that the hot paths (a million CRL entries, a
 * response per OCSP request) allocate little and never round-trip through an
 * ASN.1 object model. Every function returns fresh bytes.
 *
 * (libs/pki/src/signing/der.ts has a similar set for the signing layer; these
 * are kept apart so each module can tune its own hot path.)
 */

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

/** Number of octets of the DER length field for a content of `length` octets (X.690 §10.1). */
export function derLengthSize(length: number): number {
  if (length < 0x80) return 1;
  if (length < 0x100) return 2;
  if (length < 0x10000) return 3;
  if (length < 0x1000000) return 4;
  if (length <= 0xffffffff) return 5;
  throw new RangeError(`DER length ${length} is too large`);
}

/**
 * Writes the DER definite length (shortest form, X.690 §10.1) of `length`
 * into `target` at `offset` and returns the offset after it.
 */
export function writeDerLength(target: Uint8Array, offset: number, length: number): number {
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`invalid DER length ${length}`);
  const size = derLengthSize(length);
  if (size === 1) {
    target[offset] = length;
    return offset + 1;
  }
  target[offset] = 0x80 | (size - 1);
  for (let i = size - 1; i >= 1; i--) {
    target[offset + i] = length & 0xff;
    length = Math.floor(length / 256);
  }
  return offset + size;
}

/** The tag and length octets of an element with a one-octet tag and `length` content octets. */
export function derHeader(tag: number, length: number): Uint8Array {
  const out = new Uint8Array(1 + derLengthSize(length));
  out[0] = tag;
  writeDerLength(out, 1, length);
  return out;
}

/** Concatenates byte arrays into one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const part of parts) total += part.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** A tag-length-value with a one-octet tag whose content is the concatenation of `content`. */
export function derTlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of content) length += part.length;
  const out = new Uint8Array(1 + derLengthSize(length) + length);
  out[0] = tag;
  let offset = writeDerLength(out, 1, length);
  for (const part of content) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** SEQUENCE of already-encoded elements (X.690 §8.9). */
export function derSequence(...elements: Uint8Array[]): Uint8Array {
  return derTlv(TAG.sequence, ...elements);
}

/** OCTET STRING (X.690 §8.7, primitive in DER). */
export function derOctetString(bytes: Uint8Array): Uint8Array {
  return derTlv(TAG.octetString, bytes);
}

/** BOOLEAN TRUE (X.690 §11.1: DER encodes TRUE as 0xFF). */
export const DER_TRUE: Uint8Array = Uint8Array.of(TAG.boolean, 0x01, 0xff);

/** NULL (X.690 §8.8). */
export const DER_NULL: Uint8Array = Uint8Array.of(TAG.null, 0x00);

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

/** OBJECT IDENTIFIER from dotted notation (X.690 §8.19). */
export function derObjectIdentifier(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map((arc) => {
    if (!/^\d+$/.test(arc)) throw new RangeError(`invalid OID ${dotted}`);
    return BigInt(arc);
  });
  if (arcs.length < 2 || arcs[0] > 2n || (arcs[0] < 2n && arcs[1] > 39n)) throw new RangeError(`invalid OID ${dotted}`);
  const content: number[] = [];
  for (const sub of [arcs[0] * 40n + arcs[1], ...arcs.slice(2)]) {
    const septets: number[] = [];
    let rest = sub;
    do {
      septets.unshift(Number(rest & 0x7fn));
      rest >>= 7n;
    } while (rest > 0n);
    for (let i = 0; i < septets.length; i++) content.push(i < septets.length - 1 ? septets[i] | 0x80 : septets[i]);
  }
  return derTlv(TAG.objectIdentifier, Uint8Array.from(content));
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
