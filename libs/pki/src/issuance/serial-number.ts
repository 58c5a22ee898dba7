/**
 * Certificate serial numbers: 128 bits from a CSPRNG (DOMAIN.md: random, 64
 * to 128 bits; CA/B BR §7.1 asks for at least 64 random bits), positive and
 * non-zero, at most 20 octets (RFC 5280 §4.1.2.2). 128 random bits are kept
 * whole: when the top bit is set the DER INTEGER takes a leading 0x00, so it
 * is never negative and at most 17 content octets.
 */
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { derUnsignedInteger } from './der-writer';

/** A source of random octets (injected in tests; crypto.randomBytes otherwise). */
export type RandomSource = (size: number) => Uint8Array;

export interface CertificateSerial {
  readonly value: bigint;
  /** Lower-case hex without leading zeros, as stored and shown. */
  readonly hex: string;
  /** DER INTEGER (tag, length, content). */
  readonly der: Uint8Array;
}

export const SERIAL_NUMBER_BYTES = 16;

const POOL_SIZE = 4096;
let pool = new Uint8Array(0);
let poolOffset = 0;

/**
 * The default source: crypto.randomBytes (the OpenSSL CSPRNG) drawn 4 KiB at
 * a time, since one call per certificate costs more than the rest of the
 * serial. Each octet is handed out once.
 */
function pooledRandomBytes(size: number): Uint8Array {
  if (size > POOL_SIZE) return new Uint8Array(cryptoRandomBytes(size));
  if (poolOffset + size > pool.length) {
    pool = new Uint8Array(cryptoRandomBytes(POOL_SIZE));
    poolOffset = 0;
  }
  const out = pool.slice(poolOffset, poolOffset + size);
  pool.fill(0, poolOffset, poolOffset + size);
  poolOffset += size;
  return out;
}

const HEX_DIGITS = '0123456789abcdef';

/** The bytes as lower-case hex without leading zeros ("0" for zero): the serial as stored and shown. */
function significantHex(bytes: Uint8Array): string {
  let hex = '';
  for (const octet of bytes) {
    if (hex === '' && octet === 0) continue;
    hex += hex === '' && octet < 16 ? HEX_DIGITS[octet] : HEX_DIGITS[octet >> 4] + HEX_DIGITS[octet & 15];
  }
  return hex === '' ? '0' : hex;
}

/** Draws a serial number; an all-zero draw (probability 2^-128) is drawn again. */
export function generateSerialNumber(randomBytes: RandomSource = pooledRandomBytes): CertificateSerial {
  for (let attempt = 0; attempt < 4; attempt++) {
    const bytes = randomBytes(SERIAL_NUMBER_BYTES);
    if (bytes.length !== SERIAL_NUMBER_BYTES) throw new RangeError(`random source returned ${bytes.length} bytes, not ${SERIAL_NUMBER_BYTES}`);
    const hex = significantHex(bytes);
    if (hex !== '0') return { value: BigInt('0x' + hex), hex, der: derUnsignedInteger(bytes) };
  }
  throw new Error('the random source keeps returning zero: refusing to issue');
}
