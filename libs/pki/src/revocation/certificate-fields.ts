/**
 * The few fields of an X.509 certificate (RFC 5280 §4.1) that CRLs and OCSP
 * need from the CA's or the responder's certificate, read with the DER
 * reader: subject Name, SubjectPublicKeyInfo, the subjectPublicKey bits and
 * the subjectKeyIdentifier extension.
 */
import { OID } from '../oids';
import { TAG, derObjectIdentifier } from './der-encoding';
import { DerReadError, DerReader, bytesEqual, contentOf, encodingOf } from './der-reader';

/** Fields of a certificate, as views into its DER. */
export interface CertificateFields {
  /** DER of the subject Name (RFC 5280 §4.1.2.6). */
  subjectNameDer: Uint8Array;
  /** DER of the SubjectPublicKeyInfo (RFC 5280 §4.1.2.7). */
  subjectPublicKeyInfoDer: Uint8Array;
  /** The subjectPublicKey BIT STRING value without its unused-bits octet (what RFC 6960 §4.1.1 hashes). */
  subjectPublicKey: Uint8Array;
  /** The subjectKeyIdentifier (RFC 5280 §4.2.1.2), when the extension is present. */
  subjectKeyIdentifier?: Uint8Array;
}

const SKI_OID_CONTENT = derObjectIdentifier(OID.subjectKeyIdentifier).subarray(2);

/** Reads the fields of a DER certificate; throws RangeError naming what is wrong. */
export function readCertificateFields(certificateDer: Uint8Array): CertificateFields {
  try {
    const outer = new DerReader(certificateDer);
    const certificate = outer.next(TAG.sequence, 'Certificate');
    outer.finish('Certificate');
    const tbs = DerReader.inside(certificateDer, DerReader.inside(certificateDer, certificate).next(TAG.sequence, 'TBSCertificate'));
    tbs.optional(0xa0, 'version');
    tbs.next(TAG.integer, 'serialNumber');
    tbs.next(TAG.sequence, 'signature');
    tbs.next(TAG.sequence, 'issuer');
    tbs.next(TAG.sequence, 'validity');
    const subject = tbs.next(TAG.sequence, 'subject');
    const spki = tbs.next(TAG.sequence, 'subjectPublicKeyInfo');
    const spkiReader = DerReader.inside(certificateDer, spki);
    spkiReader.next(TAG.sequence, 'algorithm');
    const bits = spkiReader.next(TAG.bitString, 'subjectPublicKey');
    if (bits.end === bits.contentStart || certificateDer[bits.contentStart] !== 0) {
      throw new DerReadError('subjectPublicKey has unused bits');
    }
    tbs.optional(0x81, 'issuerUniqueID');
    tbs.optional(0x82, 'subjectUniqueID');
    let subjectKeyIdentifier: Uint8Array | undefined;
    const extensionsField = tbs.optional(0xa3, 'extensions');
    if (extensionsField) {
      const list = DerReader.inside(certificateDer, DerReader.inside(certificateDer, extensionsField).next(TAG.sequence, 'Extensions'));
      while (!list.done) {
        const extension = DerReader.inside(certificateDer, list.next(TAG.sequence, 'Extension'));
        const oid = extension.next(TAG.objectIdentifier, 'extnID');
        extension.optional(TAG.boolean, 'critical');
        const value = extension.next(TAG.octetString, 'extnValue');
        if (bytesEqual(contentOf(certificateDer, oid), SKI_OID_CONTENT)) {
          const inner = DerReader.inside(certificateDer, value);
          subjectKeyIdentifier = contentOf(certificateDer, inner.next(TAG.octetString, 'subjectKeyIdentifier'));
        }
      }
    }
    return {
      subjectNameDer: encodingOf(certificateDer, subject),
      subjectPublicKeyInfoDer: encodingOf(certificateDer, spki),
      subjectPublicKey: certificateDer.subarray(bits.contentStart + 1, bits.end),
      subjectKeyIdentifier,
    };
  } catch (cause) {
    if (cause instanceof DerReadError) throw new RangeError(`not a DER X.509 certificate: ${cause.message}`, { cause });
    throw cause;
  }
}

/** The subjectPublicKey bits (without the unused-bits octet) of a DER SubjectPublicKeyInfo. */
export function subjectPublicKeyOf(spkiDer: Uint8Array): Uint8Array {
  try {
    const outer = new DerReader(spkiDer);
    const spki = DerReader.inside(spkiDer, outer.next(TAG.sequence, 'SubjectPublicKeyInfo'));
    outer.finish('SubjectPublicKeyInfo');
    spki.next(TAG.sequence, 'algorithm');
    const bits = spki.next(TAG.bitString, 'subjectPublicKey');
    if (bits.end === bits.contentStart || spkiDer[bits.contentStart] !== 0) throw new DerReadError('unused bits');
    return spkiDer.subarray(bits.contentStart + 1, bits.end);
  } catch (cause) {
    if (cause instanceof DerReadError) throw new RangeError(`not a DER SubjectPublicKeyInfo: ${cause.message}`, { cause });
    throw cause;
  }
}
