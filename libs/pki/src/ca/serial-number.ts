/**
 * Certificate serial numbers (RFC 5280 §4.1.2.2: positive, unique per issuer,
 * at most 20 octets), drawn from a CSPRNG: 128 bits, as DOMAIN.md's profile
 * asks for random serials of 64 to 128 bits.
 */
import { randomBytes } from 'node:crypto';
import { derUnsignedInteger } from '../signing/der';

/** A serial number: the INTEGER's content octets (two's complement, minimal, positive). */
export type CertificateSerialNumber = Uint8Array;

/**
 * 128 random bits as a positive INTEGER (17 octets when the top bit is set,
 * still within the 20-octet limit). `random` is injectable for tests.
 */
export function randomSerialNumber(random: (size: number) => Uint8Array = randomBytes): CertificateSerialNumber {
  for (;;) {
    const content = serialNumberFromMagnitude(random(16));
    if (!(content.length === 1 && content[0] === 0)) return content;
  }
}

/** INTEGER content octets of a non-negative big-endian magnitude. */
export function serialNumberFromMagnitude(magnitude: Uint8Array): CertificateSerialNumber {
  return derUnsignedInteger(magnitude).subarray(2);
}

/** Checks a serial number given by a caller: positive, minimal, 1 to 20 octets (RFC 5280 §4.1.2.2). */
export function assertValidSerialNumber(serial: CertificateSerialNumber): void {
  if (serial.length === 0 || serial.length > 20) throw new RangeError(`a serial number has 1 to 20 octets, not ${serial.length}`);
  if (serial[0] & 0x80) throw new RangeError('a serial number must be positive');
  if (serial.length > 1 && serial[0] === 0 && !(serial[1] & 0x80)) throw new RangeError('serial number is not minimally encoded');
  if (serial.every((octet) => octet === 0)) throw new RangeError('a serial number must not be zero');
}

/** Lowercase hex, as openssl and logs show it. */
export function serialNumberHex(serial: CertificateSerialNumber): string {
  return Buffer.from(serial).toString('hex');
}
