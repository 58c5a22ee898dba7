/**
 * Time values of CRLs and OCSP responses.
 *
 * - X.509 `Time` (RFC 5280 §4.1.2.5, §5.1.2.4-§5.1.2.6): UTCTime
 *   `YYMMDDHHMMSSZ` for the years 1950 to 2049, GeneralizedTime
 *   `YYYYMMDDHHMMSSZ` otherwise.
 * - GeneralizedTime alone for invalidityDate (RFC 5280 §5.3.2) and every
 *   OCSP time (RFC 6960 §4.2.1).
 *
 * Both are in UTC with seconds and without fractional seconds (RFC 5280
 * §4.1.2.5.1, §4.1.2.5.2): milliseconds are truncated.
 */
import { TAG } from './der-encoding';

/** Size in octets of the encoded X.509 Time for `date` (15 for UTCTime, 17 for GeneralizedTime). */
export function x509TimeSize(date: Date): number {
  const year = checkedDate(date).getUTCFullYear();
  return year >= 1950 && year <= 2049 ? 15 : 17;
}

/** Writes the X.509 Time for `date` at `offset` and returns the offset after it. */
export function writeX509Time(target: Uint8Array, offset: number, date: Date): number {
  const year = checkedDate(date).getUTCFullYear();
  if (year >= 1950 && year <= 2049) {
    target[offset] = TAG.utcTime;
    target[offset + 1] = 13;
    writeDigits(target, offset + 2, year % 100, 2);
    return writeRest(target, offset + 4, date);
  }
  return writeGeneralizedTime(target, offset, date);
}

/** Writes a GeneralizedTime for `date` at `offset` and returns the offset after it. */
export function writeGeneralizedTime(target: Uint8Array, offset: number, date: Date): number {
  const year = checkedDate(date).getUTCFullYear();
  if (year < 0 || year > 9999) throw new RangeError(`year ${year} cannot be encoded in GeneralizedTime`);
  target[offset] = TAG.generalizedTime;
  target[offset + 1] = 15;
  writeDigits(target, offset + 2, year, 4);
  return writeRest(target, offset + 6, date);
}

/** The DER of the X.509 Time for `date` (RFC 5280 §4.1.2.5). */
export function encodeX509Time(date: Date): Uint8Array {
  const out = new Uint8Array(x509TimeSize(date));
  writeX509Time(out, 0, date);
  return out;
}

/** The DER of a GeneralizedTime for `date` (RFC 5280 §4.1.2.5.2). */
export function encodeGeneralizedTime(date: Date): Uint8Array {
  const out = new Uint8Array(17);
  writeGeneralizedTime(out, 0, date);
  return out;
}

function checkedDate(date: Date): Date {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw new RangeError('invalid date');
  return date;
}

/** MMDDHHMMSSZ: getUTC* ignore milliseconds, which truncates them. */
function writeRest(target: Uint8Array, offset: number, date: Date): number {
  writeDigits(target, offset, date.getUTCMonth() + 1, 2);
  writeDigits(target, offset + 2, date.getUTCDate(), 2);
  writeDigits(target, offset + 4, date.getUTCHours(), 2);
  writeDigits(target, offset + 6, date.getUTCMinutes(), 2);
  writeDigits(target, offset + 8, date.getUTCSeconds(), 2);
  target[offset + 10] = 0x5a; // 'Z'
  return offset + 11;
}

function writeDigits(target: Uint8Array, offset: number, value: number, count: number): void {
  for (let i = count - 1; i >= 0; i--) {
    target[offset + i] = 0x30 + (value % 10);
    value = Math.floor(value / 10);
  }
}
