/**
 * The DER encodings (X.690 §8, §10) of libs/pki, built by hand: lengths,
 * SEQUENCE, INTEGER, BIT STRING, NULL and OBJECT IDENTIFIER here, and the
 * rest that CRLs and OCSP responses need in revocation/der-encoding.ts, on
 * top of these.
 * Hand-built so that a TBS structure is wrapped byte for byte as the caller
 * gave it (never decoded and re-encoded by an ASN.1 library).
 */

/** DER definite length octets (X.690 §8.1.3, §10.1: shortest form). */
export function derLength(length: number): Uint8Array {
  const out = new Uint8Array(derLengthSize(length));
  writeDerLength(out, 0, length);
  return out;
}

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

/**
 * A constructed element not yet written: its tag and parts, with the length
 * of its content already summed. {@link derTlv} writes it in place, so a
 * nested structure (a TBSCertificate and its extensions) is encoded into one
 * allocation instead of one per level.
 */
export interface DerNested {
  readonly tag: number;
  readonly parts: readonly DerPart[];
  readonly contentLength: number;
}

/** An encoded element, or one to be written by {@link derTlv}. */
export type DerPart = Uint8Array | DerNested;

function encodedLength(part: DerPart): number {
  return part instanceof Uint8Array ? part.length : 1 + derLengthSize(part.contentLength) + part.contentLength;
}

/** A constructed element to be written inside a larger one by {@link derTlv}. */
export function derNested(tag: number, ...parts: DerPart[]): DerNested {
  let contentLength = 0;
  for (const part of parts) contentLength += encodedLength(part);
  return { tag, parts, contentLength };
}

function writeParts(out: Uint8Array, offset: number, parts: readonly DerPart[]): number {
  for (const part of parts) {
    if (part instanceof Uint8Array) {
      out.set(part, offset);
      offset += part.length;
    } else {
      out[offset] = part.tag;
      offset = writeParts(out, writeDerLength(out, offset + 1, part.contentLength), part.parts);
    }
  }
  return offset;
}

/**
 * A tag-length-value with a one-octet tag, written into one allocation
 * together with any {@link DerNested} parts (issuance builds a few dozen
 * elements per certificate on its hot path).
 */
export function derTlv(tag: number, ...content: DerPart[]): Uint8Array {
  let length = 0;
  for (const part of content) length += encodedLength(part);
  const out = new Uint8Array(1 + derLengthSize(length) + length);
  out[0] = tag;
  const end = writeParts(out, writeDerLength(out, 1, length), content);
  if (end !== out.length) throw new RangeError('DER parts changed while being written');
  return out;
}

/** SEQUENCE (tag 0x30) of already-encoded (or nested) elements. */
export function derSequence(...elements: DerPart[]): Uint8Array {
  return derTlv(0x30, ...elements);
}

/** NULL (X.690 §8.8). */
export const DER_NULL: Uint8Array = Uint8Array.of(0x05, 0x00);

/**
 * A non-negative INTEGER from its unsigned big-endian magnitude
 * (X.690 §8.3: minimal octets, a leading 0x00 when the top bit is set).
 */
export function derUnsignedInteger(magnitude: Uint8Array): Uint8Array {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  let value = magnitude.subarray(start);
  if (value.length === 0) value = Uint8Array.of(0);
  if (value[0] & 0x80) value = concatBytes([Uint8Array.of(0), value]);
  return derTlv(0x02, value);
}

/** BIT STRING with no unused bits (X.690 §8.6). */
export function derBitString(bytes: Uint8Array): Uint8Array {
  return derTlv(0x03, NO_UNUSED_BITS, bytes);
}

/** The same BIT STRING, to be written inside a larger element by {@link derTlv}. */
export function derNestedBitString(bytes: Uint8Array): DerNested {
  return derNested(0x03, NO_UNUSED_BITS, bytes);
}

const NO_UNUSED_BITS = Uint8Array.of(0);

/** OBJECT IDENTIFIER from dotted notation (X.690 §8.19). */
export function derObjectIdentifier(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map((arc) => {
    if (!/^\d+$/.test(arc)) throw new RangeError(`invalid OID ${dotted}`);
    return BigInt(arc);
  });
  if (arcs.length < 2 || arcs[0] > 2n || (arcs[0] < 2n && arcs[1] > 39n)) throw new RangeError(`invalid OID ${dotted}`);
  const subIdentifiers = [arcs[0] * 40n + arcs[1], ...arcs.slice(2)];
  const content: number[] = [];
  for (const sub of subIdentifiers) {
    const septets: number[] = [];
    let rest = sub;
    do {
      septets.unshift(Number(rest & 0x7fn));
      rest >>= 7n;
    } while (rest > 0n);
    content.push(...septets.map((septet, i) => (i < septets.length - 1 ? septet | 0x80 : septet)));
  }
  return derTlv(0x06, Uint8Array.from(content));
}

/**
 * The content length of the DER element at `offset`, from its length octets:
 * definite, in the shortest form, at most 6 octets, all before `limit`.
 * Throws RangeError otherwise. The one reader of DER lengths: readDerHeader,
 * the issuance DER reader and cursor call it (no object per element).
 */
export function derContentLength(bytes: Uint8Array, offset: number, limit: number): number {
  if (offset + 2 > limit) throw new RangeError('truncated DER element');
  const first = bytes[offset + 1];
  if (first < 0x80) return first;
  const count = first & 0x7f;
  if (count === 0 || count > 6) throw new RangeError('unsupported DER length form');
  if (offset + 2 + count > limit) throw new RangeError('truncated DER length');
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + bytes[offset + 2 + i];
  if (length < 0x80 || bytes[offset + 2] === 0) throw new RangeError('non-minimal DER length');
  return length;
}

/** Octets of tag and length of the DER element at `offset`, once derContentLength has accepted it. */
export function derHeaderOctets(bytes: Uint8Array, offset: number): number {
  const first = bytes[offset + 1];
  return first < 0x80 ? 2 : 2 + (first & 0x7f);
}

/**
 * Reads the outer tag-length of a DER element at `offset` and returns where
 * its content starts and ends. Throws on indefinite or truncated lengths.
 */
export function readDerHeader(bytes: Uint8Array, offset = 0): { tag: number; contentStart: number; end: number } {
  const length = derContentLength(bytes, offset, bytes.length);
  const contentStart = offset + derHeaderOctets(bytes, offset);
  const end = contentStart + length;
  if (end > bytes.length) throw new RangeError('truncated DER content');
  return { tag: bytes[offset], contentStart, end };
}

/** Raw r||s (PKCS#11 v2.40 §2.3.1, WebCrypto) to DER Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (RFC 3279 §2.2.3). */
export function ecdsaRawToDer(raw: Uint8Array): Uint8Array {
  if (raw.length === 0 || raw.length % 2 !== 0) throw new RangeError(`raw ECDSA signature of odd length ${raw.length}`);
  const half = raw.length / 2;
  return derSequence(derUnsignedInteger(raw.subarray(0, half)), derUnsignedInteger(raw.subarray(half)));
}
