/**
 * TBSCertificate (RFC 5280 §4.1) built field by field, every value given by
 * the caller: no default serial, no default notBefore = now (STYLE.md's
 * warning about library defaults).
 */
import { derSequence, derTlv } from '../signing/der';
import { algorithmIdentifierDer, assembleSigned } from '../signing/signed-structure';
import { SignatureAlgorithm, Signer } from '../signing/signer';
import { CertificateExtension, encodeExtension } from './extensions';
import { assertValidSerialNumber, CertificateSerialNumber } from './serial-number';

export interface CaTbsCertificateFields {
  serialNumber: CertificateSerialNumber;
  /** Must be the algorithm of the key that signs (RFC 5280 §4.1.2.3). */
  signatureAlgorithm: SignatureAlgorithm;
  /** DER Name of the issuer, byte for byte the issuer certificate's subject (RFC 5280 §4.1.2.4, §7.1). */
  issuerDer: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  subjectDer: Uint8Array;
  subjectPublicKeyInfoDer: Uint8Array;
  extensions: readonly CertificateExtension[];
}

/**
 * Validity time (RFC 5280 §4.1.2.5): UTCTime for 1950 to 2049, GeneralizedTime
 * from 2050, always UTC with seconds and no fraction. Milliseconds are
 * dropped (rounded down).
 */
export function encodeCertificateTime(date: Date): Uint8Array {
  const time = date.getTime();
  if (Number.isNaN(time)) throw new RangeError('invalid date');
  const d = new Date(time - (((time % 1000) + 1000) % 1000));
  const year = d.getUTCFullYear();
  if (year < 1950 || year > 9999) throw new RangeError(`year ${year} cannot be a certificate time`);
  const pad = (n: number) => String(n).padStart(2, '0');
  const rest = `${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
  return year < 2050
    ? derTlv(0x17, new TextEncoder().encode(`${pad(year % 100)}${rest}`))
    : derTlv(0x18, new TextEncoder().encode(`${year}${rest}`));
}

/** DER TBSCertificate, version 3 (RFC 5280 §4.1.2.1). */
export function encodeTbsCertificate(fields: CaTbsCertificateFields): Uint8Array {
  assertValidSerialNumber(fields.serialNumber);
  if (!(fields.notBefore.getTime() < fields.notAfter.getTime())) {
    throw new RangeError('notAfter must be after notBefore (RFC 5280 §4.1.2.5)');
  }
  const oids = fields.extensions.map((extension) => extension.oid);
  const repeated = oids.find((oid, i) => oids.indexOf(oid) !== i);
  if (repeated) throw new RangeError(`extension ${repeated} appears twice (RFC 5280 §4.2)`);
  return derSequence(
    derTlv(0xa0, Uint8Array.of(0x02, 0x01, 0x02)),
    derTlv(0x02, fields.serialNumber),
    algorithmIdentifierDer(fields.signatureAlgorithm),
    fields.issuerDer,
    derSequence(encodeCertificateTime(fields.notBefore), encodeCertificateTime(fields.notAfter)),
    fields.subjectDer,
    fields.subjectPublicKeyInfoDer,
    ...(fields.extensions.length ? [derTlv(0xa3, derSequence(...fields.extensions.map(encodeExtension)))] : []),
  );
}

/** Builds the TBSCertificate with the signer's algorithm and signs it: the Certificate DER. */
export async function signCertificate(
  fields: Omit<CaTbsCertificateFields, 'signatureAlgorithm'>,
  signer: Signer,
): Promise<Uint8Array> {
  const tbs = encodeTbsCertificate({ ...fields, signatureAlgorithm: signer.signatureAlgorithm });
  return assembleSigned(tbs, signer);
}

/** PEM with the given label (RFC 7468), 64-character lines. */
export function derToPem(der: Uint8Array, label: 'CERTIFICATE' | 'CERTIFICATE REQUEST' | 'X509 CRL'): string {
  const base64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${base64.replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;
}

/** DER from a PEM with the given label; throws if the label is absent. */
export function pemToDer(pem: string, label: 'CERTIFICATE' | 'CERTIFICATE REQUEST' | 'X509 CRL'): Uint8Array {
  const match = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`).exec(pem);
  if (!match) throw new RangeError(`no ${label} PEM block found`);
  return new Uint8Array(Buffer.from(match[1].replace(/\s+/g, ''), 'base64'));
}

/** A certificate this library has just signed. */
export interface SignedCertificate {
  der: Uint8Array;
  pem: string;
  serialNumberHex: string;
}

/** @internal */
export function signedCertificate(der: Uint8Array, serialNumber: CertificateSerialNumber): SignedCertificate {
  return { der, pem: derToPem(der, 'CERTIFICATE'), serialNumberHex: Buffer.from(serialNumber).toString('hex') };
}
