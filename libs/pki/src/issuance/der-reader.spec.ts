import { derLength, derNested, derObjectIdentifier, derTlv } from '../signing/der';
import { latin1, readNode, readOid, readSingle, readTime, Tag } from './der-reader';
import { derTime } from './der-writer';

const bytes = (hex: string) => Uint8Array.from(Buffer.from(hex.replace(/\s/g, ''), 'hex'));
const hex = (value: Uint8Array) => Buffer.from(value).toString('hex');

describe('DER lengths and elements written in one allocation (X.690 §8.1.3, §10.1)', () => {
  it.each([
    [0, '00'],
    [0x7f, '7f'],
    [0x80, '8180'],
    [0xff, '81ff'],
    [0x100, '820100'],
    [0x10000, '83010000'],
    [47_000_000, '8402cd29c0'],
  ])('encodes length %i as %s', (length, expected) => {
    expect(hex(derLength(length))).toBe(expected);
  });

  it.each([0, 1, 0x7f, 0x80, 0x100, 70_000])('writes a TLV of %i content octets from several parts, and reads it back', (size) => {
    const content = Uint8Array.from({ length: size }, (_, i) => i % 251);
    const split = Math.floor(size / 3);
    const tlv = derTlv(0x04, content.subarray(0, split), new Uint8Array(0), content.subarray(split));
    const node = readSingle(tlv);
    expect(node.tag).toBe(0x04);
    expect(node.end - node.contentStart).toBe(size);
    expect(Buffer.from(tlv.subarray(node.contentStart)).equals(Buffer.from(content))).toBe(true);
  });

  it.each([0, 1, 0x7c, 0x7f, 0x80, 0xff, 0x100, 70_000])('writes nested parts in place exactly as nested TLVs (%i octets inside)', (size) => {
    const a = Uint8Array.of(0x02, 0x01, 0x05);
    const b = Uint8Array.from({ length: size }, (_, i) => i % 256);
    const flat = derTlv(0x30, a, derTlv(0xa3, derTlv(0x30, b, a)), derTlv(0x04, b));
    const nested = derTlv(0x30, a, derNested(0xa3, derNested(0x30, b, a)), derNested(0x04, b));
    expect(hex(nested)).toBe(hex(flat));
  });

  it.each([
    ['nothing', ''],
    ['a lone tag', '30'],
    ['content past the end', '0403 aabb'],
    ['an indefinite length (BER only)', '3080 0000'],
    ['a non-minimal long form', '0481 05 0102030405'],
    ['a leading zero length octet', '0482 0080 ' + '00'.repeat(128)],
    ['seven length octets', '0487 00000000000001 00'],
    ['a truncated length', '0482 01'],
    ['a multi-octet tag', '1f81 01 00'],
  ])('readNode refuses %s', (_name, input) => {
    expect(() => readNode(bytes(input))).toThrow(RangeError);
  });
});

describe('validity times (RFC 5280 §4.1.2.5)', () => {
  it.each([
    ['2026-12-01T00:00:00Z', Tag.utcTime, '261201000000Z'],
    ['2049-12-31T23:59:59Z', Tag.utcTime, '491231235959Z'],
    ['2050-01-01T00:00:00Z', Tag.generalizedTime, '20500101000000Z'],
    ['1950-01-01T00:00:00Z', Tag.utcTime, '500101000000Z'],
    ['9999-12-31T23:59:59Z', Tag.generalizedTime, '99991231235959Z'],
  ])('writes %s as tag %i %s and reads it back', (iso, tag, text) => {
    const encoded = derTime(new Date(iso));
    const node = readSingle(encoded);
    expect(node.tag).toBe(tag);
    expect(latin1(encoded.subarray(node.contentStart))).toBe(text);
    expect(readTime(node).toISOString()).toBe(new Date(iso).toISOString());
  });

  it.each([
    ['a fraction of a second', Tag.generalizedTime, '20300101000000.5Z'],
    ['no Z', Tag.utcTime, '300101000000'],
    ['an offset', Tag.utcTime, '300101000000+0800'],
    ['no seconds', Tag.utcTime, '3001010000Z'],
    ['a letter among the digits', Tag.utcTime, '30010100000AZ'],
    ['a UTCTime length under the GeneralizedTime tag', Tag.generalizedTime, '300101000000Z'],
    ['month 13', Tag.utcTime, '301301000000Z'],
    ['30 February', Tag.utcTime, '300230000000Z'],
    ['hour 24', Tag.utcTime, '300101240000Z'],
    ['another tag', Tag.printableString, '300101000000Z'],
  ])('readTime refuses %s', (_name, tag, text) => {
    expect(() => readTime(readSingle(derTlv(tag, Buffer.from(text, 'latin1'))))).toThrow(RangeError);
  });

  it('refuses fractions of a second and years out of range when writing', () => {
    expect(() => derTime(new Date('2030-01-01T00:00:00.500Z'))).toThrow(/whole seconds/);
    expect(() => derTime(new Date('1949-12-31T23:59:59Z'))).toThrow(/out of range/);
  });
});

describe('readOid (X.690 §8.19), cached by content octets', () => {
  it.each(['2.5.4.3', '2.5.4.6', '1.2.840.113549.1.1.11', '2.16.886.1.100.2.51', '1.3.6.1.5.5.7.48.1', '2.999.1'])('reads back %s', (dotted) => {
    expect(readOid(readSingle(derObjectIdentifier(dotted)))).toBe(dotted);
    // Second read: from the cache, for an OID of the same length and a different value too.
    expect(readOid(readSingle(derObjectIdentifier(dotted)))).toBe(dotted);
  });

  it('tells apart OIDs of the same length', () => {
    expect(readOid(readSingle(bytes('0603 550403')))).toBe('2.5.4.3');
    expect(readOid(readSingle(bytes('0603 550405')))).toBe('2.5.4.5');
    expect(readOid(readSingle(bytes('0603 550406')))).toBe('2.5.4.6');
  });

  it('refuses a truncated sub-identifier', () => {
    expect(() => readOid(readSingle(bytes('0602 5581')))).toThrow(/truncated OID/);
  });
});

describe('latin1', () => {
  it.each([0, 1, 64, 65, 300])('maps each of %i octets to the code unit of the same value', (size) => {
    const octets = Uint8Array.from({ length: size }, (_, i) => (i * 37) % 256);
    const text = latin1(octets);
    expect(text.length).toBe(size);
    expect([...text].map((c) => c.charCodeAt(0))).toEqual([...octets]);
  });
});
