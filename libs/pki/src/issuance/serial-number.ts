/**
 * Certificate serial numbers: 128 bits from a CSPRNG (DOMAIN.md: random, 64
 * to 128 bits; CA/B BR §7.1 asks for at least 64 random bits), positive and
 * non-zero, at most 20 octets (RFC 5280 §4.1.2.2). 128 random bits are kept
 * whole: when the top bit is set the DER INTEGER takes a leading 0x00, so it
 * is never negative and at most 17 content octets.
 */
import { randomBytes as cryptoRandomBytes } from 'node:crypto';

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

/** Draws a serial number; an all-zero draw (probability 2^-128) is drawn again. */
export function generateSerialNumber(randomBytes: RandomSource = pooledRandomBytes): CertificateSerial {
  for (let attempt = 0; attempt < 4; attempt++) {
    const bytes = randomBytes(SERIAL_NUMBER_BYTES);
    if (bytes.length !== SERIAL_NUMBER_BYTES) throw new RangeError(`random source returned ${bytes.length} bytes, not ${SERIAL_NUMBER_BYTES}`);
    let start = 0;
    while (start < bytes.length && bytes[start] === 0) start++;
    if (start === bytes.length) continue;
    const magnitude = bytes.subarray(start);
    // The hex as stored and shown: lower case, no leading zero digit ("0a0001" -> "a0001").
    let hex = Buffer.from(magnitude.buffer, magnitude.byteOffset, magnitude.byteLength).toString('hex');
    if (hex.charCodeAt(0) === 0x30) hex = hex.slice(1);
    // DER INTEGER (X.690 §8.3): the minimal magnitude, after a 0x00 when its top bit is set; at most 17 octets, so a short length.
    const pad = magnitude[0] & 0x80 ? 1 : 0;
    const der = new Uint8Array(2 + pad + magnitude.length);
    der[0] = 0x02;
    der[1] = pad + magnitude.length;
    der.set(magnitude, 2 + pad);
    return { value: BigInt('0x' + hex), hex, der };
  }
  throw new Error('the random source keeps returning zero: refusing to issue');
}
