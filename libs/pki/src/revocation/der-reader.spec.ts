import { DerReadError, DerReader } from './der-reader';

const bytes = (hex: string) => Uint8Array.from(Buffer.from(hex.replace(/\s/g, ''), 'hex'));

describe('DerReader (X.690 §8.1, §10.1)', () => {
  it.each([
    ['short form', '0403 aabbcc', { tag: 0x04, start: 0, contentStart: 2, end: 5 }],
    ['long form, one octet', `0481 80 ${'00'.repeat(128)}`, { tag: 0x04, start: 0, contentStart: 3, end: 131 }],
    ['long form, two octets', `0482 0100 ${'00'.repeat(256)}`, { tag: 0x04, start: 0, contentStart: 4, end: 260 }],
    ['empty content', '0500', { tag: 0x05, start: 0, contentStart: 2, end: 2 }],
  ])('reads %s', (_name, hex, expected) => {
    const reader = new DerReader(bytes(hex));
    expect(reader.next()).toEqual(expected);
    expect(reader.done).toBe(true);
  });

  it.each([
    ['nothing', ''],
    ['a lone tag', '30'],
    ['content past the end', '0403 aabb'],
    ['an indefinite length (BER only)', '3080 0000'],
    ['a non-minimal long form', '0481 05 0102030405'],
    ['a leading zero length octet', '0482 0080 ' + '00'.repeat(128)],
    ['five length octets', '0485 0000000001 00'],
    ['a truncated length', '0482 01'],
    ['a multi-octet tag', '1f81 01 00'],
  ])('refuses %s', (_name, hex) => {
    expect(() => new DerReader(bytes(hex)).next()).toThrow(DerReadError);
  });

  it('checks the expected tag and stays inside its parent', () => {
    const der = bytes('3003 020101 0500');
    const outer = new DerReader(der);
    const sequence = outer.next(0x30);
    const inner = DerReader.inside(der, sequence);
    expect(inner.next(0x02).end).toBe(5);
    expect(() => inner.next()).toThrow(/truncated/);
    expect(() => new DerReader(der).next(0x31, 'SET')).toThrow(/SET: expected tag 0x31, found 0x30/);
    expect(outer.optional(0x02)).toBeUndefined();
    expect(() => outer.finish('thing')).toThrow(/unexpected data after thing/);
  });
});
