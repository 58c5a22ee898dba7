import { encodeCrlEntry, CrlEntry } from './crl-entry';
import { crlReasonFromCode, CRL_REASON_CODES } from './crl-reason';
import { serialHex } from './serial-number';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const REVOKED_AT = new Date('2026-02-10T08:30:00Z');
const UTC_REVOKED_AT = '170d3236303231303038333030305a'; // UTCTime 260210083000Z
const REASON = (code: string) => `300a0603551d1504030a01${code}`;

describe('encodeCrlEntry (RFC 5280 §5.1.2.6, §5.3)', () => {
  it.each<[string, CrlEntry, string]>([
    ['no reason: no extensions', { serial: 0x77n, revokedAt: REVOKED_AT }, `3012020177${UTC_REVOKED_AT}`],
    ['unspecified: no reasonCode (§5.3.1)', { serial: 0x77n, revokedAt: REVOKED_AT, reason: 'unspecified' }, `3012020177${UTC_REVOKED_AT}`],
    [
      'keyCompromise',
      { serial: 0x77n, revokedAt: REVOKED_AT, reason: 'keyCompromise' },
      `3020020177${UTC_REVOKED_AT}300c${REASON('01')}`,
    ],
    [
      'certificateHold (a suspension)',
      { serial: 'D0C0FFEE0002', revokedAt: REVOKED_AT, reason: 'certificateHold' },
      `3026020700d0c0ffee0002${UTC_REVOKED_AT}300c${REASON('06')}`,
    ],
    [
      'removeFromCRL (a resumption, in a delta)',
      { serial: Uint8Array.of(0x01, 0x02), revokedAt: REVOKED_AT, reason: 'removeFromCRL' },
      `302102020102${UTC_REVOKED_AT}300c${REASON('08')}`,
    ],
    [
      'invalidityDate as GeneralizedTime (§5.3.2)',
      { serial: 0x77n, revokedAt: REVOKED_AT, reason: 'keyCompromise', invalidityDate: new Date('2026-02-09T00:00:00Z') },
      `303a020177${UTC_REVOKED_AT}3026${REASON('01')}30180603551d180411180f32303236303230393030303030305a`,
    ],
    [
      'revocation date from 2050 as GeneralizedTime',
      { serial: 0x77n, revokedAt: new Date('2050-01-01T00:00:00Z') },
      '3014020177180f32303530303130313030303030305a',
    ],
  ])('%s', (_name, entry, expected) => {
    expect(hex(encodeCrlEntry(entry))).toBe(expected);
  });

  it('encodes a 20-octet serial, the largest allowed, with a sign octet', () => {
    const serial = 'ff'.repeat(20);
    const der = encodeCrlEntry({ serial, revokedAt: REVOKED_AT });
    expect(hex(der).startsWith(`3026021500${serial}170d`)).toBe(true);
  });

  it.each<[string, CrlEntry]>([
    ['serial zero', { serial: 0n, revokedAt: REVOKED_AT }],
    ['a 21-octet serial', { serial: '01'.repeat(21), revokedAt: REVOKED_AT }],
    ['a non-hex serial', { serial: 'xyz', revokedAt: REVOKED_AT }],
    ['a negative serial', { serial: -5n, revokedAt: REVOKED_AT }],
    ['an invalid date', { serial: 1n, revokedAt: new Date('nope') }],
    ['reason 7 (unused)', { serial: 1n, revokedAt: REVOKED_AT, reason: 'seven' as never }],
  ])('refuses %s', (_name, entry) => {
    expect(() => encodeCrlEntry(entry)).toThrow(RangeError);
  });
});

describe('CRL reasons', () => {
  it.each(Object.entries(CRL_REASON_CODES))('%s is code %d and back', (name, code) => {
    expect(crlReasonFromCode(code)).toBe(name);
  });
  it('has no reason 7', () => expect(crlReasonFromCode(7)).toBeUndefined());
});

describe('serialHex', () => {
  it.each([
    [0xd0c0ffee0002n, 'd0c0ffee0002'],
    ['00D0c0', 'd0c0'],
    [Uint8Array.of(0, 0, 0x7f), '7f'],
    ['abc', '0abc'],
  ])('%s is %s', (serial, expected) => expect(serialHex(serial)).toBe(expected));
});
