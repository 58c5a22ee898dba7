/**
 * Certificate serial numbers as they appear in CRL entries and OCSP CertIDs
 * (RFC 5280 §4.1.2.2: a positive INTEGER of at most 20 octets).
 */
import { bigintMagnitude, unsignedIntegerContent } from './der-encoding';

/**
 * A serial number: the unsigned big-endian magnitude as bytes, a bigint, or
 * the magnitude in hexadecimal (case-insensitive, optional leading zeros).
 */
export type SerialNumber = Uint8Array | bigint | string;

/**
 * The content octets of the serial's DER INTEGER (minimal, with a leading
 * 0x00 when the top bit is set). Refuses zero and magnitudes over 20 octets
 * (RFC 5280 §4.1.2.2).
 */
export function serialIntegerContent(serial: SerialNumber): Uint8Array {
  let magnitude: Uint8Array;
  if (typeof serial === 'bigint') {
    magnitude = bigintMagnitude(serial);
  } else if (typeof serial === 'string') {
    if (!/^[0-9a-fA-F]+$/.test(serial)) throw new RangeError(`serial ${JSON.stringify(serial)} is not hexadecimal`);
    magnitude = Uint8Array.from(Buffer.from(serial.length % 2 ? '0' + serial : serial, 'hex'));
  } else if (serial instanceof Uint8Array) {
    magnitude = serial;
  } else {
    throw new RangeError('serial must be bytes, a bigint or a hexadecimal string');
  }
  const content = unsignedIntegerContent(magnitude);
  const magnitudeLength = content[0] === 0 ? content.length - 1 : content.length;
  if (magnitudeLength === 0) throw new RangeError('serial number zero is not allowed (RFC 5280 §4.1.2.2)');
  if (magnitudeLength > 20) throw new RangeError(`serial number of ${magnitudeLength} octets exceeds 20 (RFC 5280 §4.1.2.2)`);
  return content;
}

/** Lowercase hexadecimal of a serial's magnitude (no sign octet, no leading zeros beyond whole octets). */
export function serialHex(serial: SerialNumber): string {
  const content = serialIntegerContent(serial);
  return Buffer.from(content[0] === 0 ? content.subarray(1) : content).toString('hex');
}
