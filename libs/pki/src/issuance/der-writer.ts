/**
 * DER encoders for the certificate fields issuance builds by hand (X.690
 * §10), on top of the signing layer's primitives. Hand-built so the bytes of
 * a TBSCertificate are exactly what the profile says, with no library
 * defaults in between (STYLE.md, on @peculiar/x509 / PKI.js defaults).
 */
import { DerNested, derNested, derObjectIdentifier as encodeObjectIdentifier, derTlv } from '../signing/der';
import { Tag } from './der-reader';

export { concatBytes, DER_NULL, derBitString, derNested, derSequence, derTlv, derUnsignedInteger } from '../signing/der';
export type { DerNested, DerPart } from '../signing/der';

const oidEncodings = new Map<string, Uint8Array>();

/**
 * OBJECT IDENTIFIER (X.690 §8.19), cached: a certificate repeats the same
 * few dozen OIDs, and issuance is on the hot path. The cached arrays are
 * only ever copied into larger encodings, never modified.
 */
export function derObjectIdentifier(dotted: string): Uint8Array {
  let encoded = oidEncodings.get(dotted);
  if (!encoded) {
    encoded = encodeObjectIdentifier(dotted);
    if (oidEncodings.size < 1024) oidEncodings.set(dotted, encoded);
  }
  return encoded;
}

const utf8 = new TextEncoder();

/** SET OF, with its elements sorted by encoding as DER requires (X.690 §11.6). */
export function derSet(...elements: Uint8Array[]): Uint8Array {
  if (elements.length < 2) return derTlv(Tag.set, ...elements);
  return derTlv(Tag.set, ...[...elements].sort(compareBytes));
}

/**
 * The octets of a string whose characters are all below U+0080 (the
 * PrintableString and IA5String repertoires, and time strings): one octet
 * per character, as UTF-8 and ASCII agree there. Callers check the
 * repertoire first.
 */
function asciiOctets(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** OCTET STRING. */
export function derOctetString(bytes: Uint8Array): Uint8Array {
  return derTlv(Tag.octetString, bytes);
}

/** BOOLEAN TRUE (DER: 0xFF, X.690 §11.1). FALSE is never encoded: it is the DEFAULT. */
export const DER_TRUE: Uint8Array = Uint8Array.of(Tag.boolean, 0x01, 0xff);

/** UTF8String (RFC 5280 §4.1.2.4: the encoding for new DirectoryString values). */
export function derUtf8String(text: string): Uint8Array {
  return derTlv(Tag.utf8String, utf8.encode(text));
}

/** The same UTF8String, to be written inside a larger element. */
export function derNestedUtf8String(text: string): DerNested {
  return derNested(Tag.utf8String, utf8.encode(text));
}

/** PrintableString (X.680 §41.4); throws on characters outside its repertoire. */
export function derPrintableString(text: string): Uint8Array {
  return derTlv(Tag.printableString, printableOctets(text));
}

/** The same PrintableString, to be written inside a larger element. */
export function derNestedPrintableString(text: string): DerNested {
  return derNested(Tag.printableString, printableOctets(text));
}

function printableOctets(text: string): Uint8Array {
  if (!isPrintableString(text)) throw new RangeError(`not a PrintableString: ${JSON.stringify(text)}`);
  return asciiOctets(text);
}

/** IA5String (ASCII), as in rfc822Name and URIs (RFC 5280 §4.2.1.6). */
export function derIa5String(text: string, tag: number = Tag.ia5String): Uint8Array {
  if (!/^[\x00-\x7f]*$/.test(text)) throw new RangeError(`not an IA5String: ${JSON.stringify(text)}`);
  return derTlv(tag, asciiOctets(text));
}

/** The PrintableString repertoire (X.680 §41.4). */
export function isPrintableString(text: string): boolean {
  return /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(text);
}

/**
 * Validity time: UTCTime through 2049, GeneralizedTime from 2050, both in
 * Zulu with seconds and no fraction (RFC 5280 §4.1.2.5.1, §4.1.2.5.2).
 */
export function derTime(date: Date): Uint8Array {
  const ms = date.getTime();
  if (!Number.isFinite(ms) || ms % 1000 !== 0) throw new RangeError('certificate times are whole seconds');
  const year = date.getUTCFullYear();
  if (year < 1950 || year > 9999) throw new RangeError(`year ${year} out of range`);
  const utc = year < 2050;
  // YYMMDDHHMMSSZ (13 octets) or YYYYMMDDHHMMSSZ (15), written as digits directly.
  const out = new Uint8Array(utc ? 15 : 17);
  out[0] = utc ? Tag.utcTime : Tag.generalizedTime;
  out[1] = out.length - 2;
  let offset = 2;
  const digits = (value: number, count: number) => {
    for (let i = count - 1; i >= 0; i--, value = Math.floor(value / 10)) out[offset + i] = 0x30 + (value % 10);
    offset += count;
  };
  if (utc) digits(year % 100, 2);
  else digits(year, 4);
  digits(date.getUTCMonth() + 1, 2);
  digits(date.getUTCDate(), 2);
  digits(date.getUTCHours(), 2);
  digits(date.getUTCMinutes(), 2);
  digits(date.getUTCSeconds(), 2);
  out[offset] = 0x5a; // 'Z'
  return out;
}

/** A named-bit BIT STRING in DER: trailing zero bits dropped (X.690 §11.2.2). */
export function derNamedBits(bits: readonly number[]): Uint8Array {
  if (bits.length === 0) return derTlv(Tag.bitString, Uint8Array.of(0));
  const highest = Math.max(...bits);
  const octets = new Uint8Array(Math.floor(highest / 8) + 1);
  for (const bit of bits) octets[Math.floor(bit / 8)] |= 0x80 >> bit % 8;
  const unused = 7 - (highest % 8);
  return derTlv(Tag.bitString, Uint8Array.of(unused), octets);
}

/** Byte-wise comparison (for DER SET OF ordering and equality checks). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** True when both arrays hold the same bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  if (a.length < 64) return compareBytes(a, b) === 0;
  // A whole TBSCertificate is compared several times per issuance: memcmp, not a JS loop.
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
