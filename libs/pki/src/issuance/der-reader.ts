/**
 * A strict DER reader (X.690 §10) for the structures issuance reads back:
 * PKCS#10 requests, SubjectPublicKeyInfo, issuer certificates and the
 * TBSCertificate the lint inspects. It never re-encodes: every node keeps the
 * exact bytes it was read from, so "what was linted is what gets signed" can
 * be checked byte for byte (STYLE.md, the Boulder model).
 */
import { derContentLength, derHeaderOctets } from '../signing/der';

/** One DER element: its identifier octet and where its bytes lie in the buffer. */
export interface DerNode {
  /** The whole identifier octet (class, constructed bit and tag number). */
  readonly tag: number;
  readonly bytes: Uint8Array;
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

/** DER tags used by X.509 (X.680 §8.4, X.690). */
export const Tag = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  bmpString: 0x1e,
  sequence: 0x30,
  set: 0x31,
} as const;

/**
 * Reads the element at `offset`; throws RangeError on anything that is not
 * DER: one-octet tags, and lengths as the signing layer's derContentLength
 * reads them (definite, shortest form, at most 6 length octets).
 */
export function readNode(bytes: Uint8Array, offset = 0): DerNode {
  if (offset + 2 > bytes.length) throw new RangeError('truncated DER element');
  const tag = bytes[offset];
  if ((tag & 0x1f) === 0x1f) throw new RangeError('multi-octet tags are not used in X.509');
  const length = derContentLength(bytes, offset, bytes.length);
  const contentStart = offset + derHeaderOctets(bytes, offset);
  const end = contentStart + length;
  if (end > bytes.length) throw new RangeError('truncated DER content');
  return { tag, bytes, start: offset, contentStart, end };
}

/** Reads a buffer that must hold exactly one element (no trailing bytes). */
export function readSingle(bytes: Uint8Array): DerNode {
  const node = readNode(bytes, 0);
  if (node.end !== bytes.length) throw new RangeError(`${bytes.length - node.end} trailing bytes after the DER element`);
  return node;
}

/** The children of a constructed element, which must tile its content exactly. */
export function children(node: DerNode): DerNode[] {
  if ((node.tag & 0x20) === 0) throw new RangeError(`tag 0x${node.tag.toString(16)} is not constructed`);
  // Collected in a reused array and copied out at their exact count: an array grown
  // by push starts with room for 17 elements, and the lint reads about a hundred
  // small constructed elements per certificate. (Nothing here re-enters children.)
  let count = 0;
  let offset = node.contentStart;
  try {
    while (offset < node.end) {
      const child = readNode(node.bytes, offset);
      if (child.end > node.end) throw new RangeError('child element overruns its parent');
      scratch[count++] = child;
      offset = child.end;
    }
    return scratch.slice(0, count) as DerNode[];
  } finally {
    scratch.fill(undefined, 0, count);
  }
}

const scratch: (DerNode | undefined)[] = [];

/** The element's content octets. */
export function content(node: DerNode): Uint8Array {
  return node.bytes.subarray(node.contentStart, node.end);
}

/** The element's whole encoding (tag, length and content). */
export function encoding(node: DerNode): Uint8Array {
  return node.bytes.subarray(node.start, node.end);
}

/** Throws unless the node has the expected tag. */
export function expectTag(node: DerNode, tag: number, what: string): DerNode {
  if (node.tag !== tag) throw new RangeError(`${what}: expected tag 0x${tag.toString(16)}, found 0x${node.tag.toString(16)}`);
  return node;
}

/** Children of a SEQUENCE/SET with the expected tag. */
export function childrenOf(node: DerNode, tag: number, what: string): DerNode[] {
  return children(expectTag(node, tag, what));
}

/** Decoded OIDs by content length, each with its content octets (certificates repeat a few dozen OIDs). */
const oidCache = new Map<number, { octets: Uint8Array; dotted: string }[]>();
let oidCacheSize = 0;

/** Dotted OBJECT IDENTIFIER (X.690 §8.19); decodings are cached, looked up by comparing octets in place. */
export function readOid(node: DerNode): string {
  expectTag(node, Tag.oid, 'OBJECT IDENTIFIER');
  return readOidAt(node.bytes, node.contentStart, node.end);
}

/** {@link readOid} of the content octets `bytes[contentStart, end)`, for readers that keep no node. */
export function readOidAt(bytes: Uint8Array, contentStart: number, end: number): string {
  const length = end - contentStart;
  let bucket = oidCache.get(length);
  if (bucket) {
    for (const entry of bucket) {
      let i = 0;
      while (i < length && entry.octets[i] === bytes[contentStart + i]) i++;
      if (i === length) return entry.dotted;
    }
  }
  const value = bytes.subarray(contentStart, end);
  const dotted = decodeOid(value);
  if (oidCacheSize < 4096) {
    if (!bucket) oidCache.set(length, (bucket = []));
    bucket.push({ octets: value.slice(), dotted });
    oidCacheSize++;
  }
  return dotted;
}

function decodeOid(value: Uint8Array): string {
  if (value.length === 0 || (value[value.length - 1] & 0x80) !== 0) throw new RangeError('truncated OID');
  const arcs: bigint[] = [];
  let current = 0n;
  for (let i = 0; i < value.length; i++) {
    if (current === 0n && value[i] === 0x80) throw new RangeError('non-minimal OID sub-identifier');
    current = (current << 7n) | BigInt(value[i] & 0x7f);
    if ((value[i] & 0x80) === 0) {
      arcs.push(current);
      current = 0n;
    }
  }
  const first = arcs[0] < 40n ? 0n : arcs[0] < 80n ? 1n : 2n;
  return [first, arcs[0] - first * 40n, ...arcs.slice(1)].join('.');
}

/** INTEGER content as a signed bigint, checking minimal encoding (X.690 §8.3.2). */
export function readInteger(node: DerNode): bigint {
  const value = content(expectTag(node, Tag.integer, 'INTEGER'));
  if (value.length === 0) throw new RangeError('empty INTEGER');
  if (value.length > 1 && ((value[0] === 0 && (value[1] & 0x80) === 0) || (value[0] === 0xff && (value[1] & 0x80) !== 0))) {
    throw new RangeError('non-minimal INTEGER');
  }
  let result = BigInt('0x' + Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex'));
  if (value[0] & 0x80) result -= 1n << BigInt(value.length * 8);
  return result;
}

/** BIT STRING content without the unused-bits octet; only whole octets are accepted. */
export function readBitStringBytes(node: DerNode): Uint8Array {
  const value = content(expectTag(node, Tag.bitString, 'BIT STRING'));
  if (value.length === 0) throw new RangeError('empty BIT STRING');
  if (value[0] !== 0) throw new RangeError('BIT STRING with unused bits where whole octets are expected');
  return value.subarray(1);
}

/** BIT STRING as a set of named bit numbers (X.690 §8.6; bit 0 is the first, most significant bit). */
export function readNamedBits(node: DerNode): Set<number> {
  const value = content(expectTag(node, Tag.bitString, 'BIT STRING'));
  if (value.length === 0 || value[0] > 7 || (value.length === 1 && value[0] !== 0)) throw new RangeError('invalid BIT STRING');
  const unused = value[0];
  const bits = new Set<number>();
  for (let i = 1; i < value.length; i++) {
    for (let bit = 0; bit < 8; bit++) if (value[i] & (0x80 >> bit)) bits.add((i - 1) * 8 + bit);
  }
  const lastBitNumber = (value.length - 1) * 8 - 1;
  // DER (X.690 §11.2.2): the unused bits are zero and trailing zero bits are removed.
  for (let bit = lastBitNumber - unused + 1; bit <= lastBitNumber; bit++) if (bits.has(bit)) throw new RangeError('non-zero unused bits');
  if (value.length > 1 && !bits.has(lastBitNumber - unused)) throw new RangeError('named BIT STRING with trailing zero bits');
  return bits;
}

/** BOOLEAN; DER requires 0x00 or 0xFF (X.690 §11.1). */
export function readBoolean(node: DerNode): boolean {
  const value = content(expectTag(node, Tag.boolean, 'BOOLEAN'));
  if (value.length !== 1 || (value[0] !== 0 && value[0] !== 0xff)) throw new RangeError('invalid DER BOOLEAN');
  return value[0] === 0xff;
}

/** Octets as a string of the same code units (ISO 8859-1), for ASCII-range checks. */
export function latin1(bytes: Uint8Array): string {
  // Most strings read here (names, URIs) are a few dozen octets: one fromCharCode
  // call is cheaper than a Buffer view and a native call.
  if (bytes.length <= 64) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** UTCTime or GeneralizedTime in the forms RFC 5280 §4.1.2.5 allows (Zulu, whole seconds). */
export function readTime(node: DerNode): Date {
  return new Date(readTimeAt(node.bytes, node.tag, node.contentStart, node.end));
}

/**
 * {@link readTime} of an element given by its tag and content range, as
 * milliseconds since the epoch (no Date object: the lint reads two per
 * certificate).
 */
export function readTimeAt(bytes: Uint8Array, tag: number, contentStart: number, end: number): number {
  const digitCount = tag === Tag.utcTime ? 12 : tag === Tag.generalizedTime ? 14 : -1;
  // YYMMDDHHMMSSZ or YYYYMMDDHHMMSSZ: the digits, then 'Z', nothing else.
  let well = digitCount > 0 && end - contentStart === digitCount + 1 && bytes[end - 1] === 0x5a;
  for (let i = contentStart; well && i < end - 1; i++) well = bytes[i] >= 0x30 && bytes[i] <= 0x39;
  if (!well) throw new RangeError(`time not in RFC 5280 §4.1.2.5 form: ${latin1(bytes.subarray(contentStart, end))}`);
  let year: number;
  let at: number;
  if (digitCount === 12) {
    const yy = digits(bytes, contentStart, 2);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    at = 2;
  } else {
    year = digits(bytes, contentStart, 4);
    at = 4;
  }
  const month = digits(bytes, contentStart + at, 2);
  const day = digits(bytes, contentStart + at + 2, 2);
  const hour = digits(bytes, contentStart + at + 4, 2);
  const minute = digits(bytes, contentStart + at + 6, 2);
  const second = digits(bytes, contentStart + at + 8, 2);
  // Date.UTC reads years 0-99 as 1900-1999; the calendar check below uses the same year.
  const calendarYear = year < 100 ? 1900 + year : year;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(calendarYear, month) || hour > 23 || minute > 59 || second > 59) {
    throw new RangeError('invalid calendar time');
  }
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

function digits(bytes: Uint8Array, offset: number, count: number): number {
  let value = 0;
  for (let i = 0; i < count; i++) value = value * 10 + bytes[offset + i] - 0x30;
  return value;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}
