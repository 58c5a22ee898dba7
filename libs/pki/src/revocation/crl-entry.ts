/**
 * One entry of a CRL's revokedCertificates (RFC 5280 §5.1.2.6):
 *
 *   SEQUENCE { userCertificate CertificateSerialNumber,
 *              revocationDate  Time,
 *              crlEntryExtensions Extensions OPTIONAL }
 *
 * Encoded once, when the certificate is revoked or suspended, and stored as
 * bytes: a CRL of a million entries is then a concatenation, not a million
 * encodings (see crl-builder.ts).
 */
import { TAG, derLengthSize, writeDerLength } from './der-encoding';
import { CrlReason, crlReasonCode } from './crl-reason';
import { SerialNumber, serialIntegerContent } from './serial-number';
import { writeGeneralizedTime, writeX509Time, x509TimeSize } from './x509-time';

/** A revoked (or suspended) certificate as listed in a CRL. */
export interface CrlEntry {
  /** The certificate's serial number. */
  serial: SerialNumber;
  /** When the CA processed the revocation (revocationDate, RFC 5280 §5.1.2.6). */
  revokedAt: Date;
  /**
   * reasonCode (RFC 5280 §5.3.1). Absent or `unspecified`: no extension is
   * written ("the reason code CRL entry extension SHOULD be absent instead of
   * using the unspecified (0) reasonCode value"). `certificateHold` for a
   * suspension; `removeFromCRL` only in delta CRLs (§5.2.4).
   */
  reason?: CrlReason;
  /** When the key is known or suspected to have been compromised (invalidityDate, RFC 5280 §5.3.2). */
  invalidityDate?: Date;
}

// Extension prefixes: SEQUENCE { OID, OCTET STRING { ... } } (RFC 5280 §4.1).
// reasonCode (2.5.29.21): 30 0a 06 03 55 1d 15 04 03 0a 01 <code>
const REASON_CODE_PREFIX = Uint8Array.of(0x30, 0x0a, 0x06, 0x03, 0x55, 0x1d, 0x15, 0x04, 0x03, 0x0a, 0x01);
const REASON_CODE_SIZE = REASON_CODE_PREFIX.length + 1;
// invalidityDate (2.5.29.24): 30 18 06 03 55 1d 18 04 11 <GeneralizedTime, 17 octets>
const INVALIDITY_DATE_PREFIX = Uint8Array.of(0x30, 0x18, 0x06, 0x03, 0x55, 0x1d, 0x18, 0x04, 0x11);
const INVALIDITY_DATE_SIZE = INVALIDITY_DATE_PREFIX.length + 17;

/**
 * The DER of one revokedCertificates entry (RFC 5280 §5.1.2.6, §5.3).
 * Throws RangeError on an invalid serial, date or reason (7 is not a reason).
 */
export function encodeCrlEntry(entry: CrlEntry): Uint8Array {
  const serial = serialIntegerContent(entry.serial);
  const reasonCode = entry.reason === undefined ? 0 : crlReasonCode(entry.reason);
  const hasReason = reasonCode !== 0;
  const hasInvalidity = entry.invalidityDate !== undefined;

  const serialSize = 1 + derLengthSize(serial.length) + serial.length;
  const extensionsContent = (hasReason ? REASON_CODE_SIZE : 0) + (hasInvalidity ? INVALIDITY_DATE_SIZE : 0);
  const extensionsSize = extensionsContent > 0 ? 1 + derLengthSize(extensionsContent) + extensionsContent : 0;
  const contentSize = serialSize + x509TimeSize(entry.revokedAt) + extensionsSize;

  const out = new Uint8Array(1 + derLengthSize(contentSize) + contentSize);
  out[0] = TAG.sequence;
  let offset = writeDerLength(out, 1, contentSize);
  out[offset++] = TAG.integer;
  offset = writeDerLength(out, offset, serial.length);
  out.set(serial, offset);
  offset += serial.length;
  offset = writeX509Time(out, offset, entry.revokedAt);
  if (extensionsContent > 0) {
    out[offset++] = TAG.sequence;
    offset = writeDerLength(out, offset, extensionsContent);
    if (hasReason) {
      out.set(REASON_CODE_PREFIX, offset);
      offset += REASON_CODE_PREFIX.length;
      out[offset++] = reasonCode;
    }
    if (hasInvalidity) {
      out.set(INVALIDITY_DATE_PREFIX, offset);
      offset = writeGeneralizedTime(out, offset + INVALIDITY_DATE_PREFIX.length, entry.invalidityDate as Date);
    }
  }
  if (offset !== out.length) throw new Error(`CRL entry encoder wrote ${offset} of ${out.length} octets`);
  return out;
}
