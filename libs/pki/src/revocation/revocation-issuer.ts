/**
 * The CA as CRLs and OCSP see it: the Name that goes into a CRL's issuer
 * field and the key identifier of its AKI (RFC 5280 §5.1.2.3, §5.2.1), and
 * the hashes by which OCSP requests name it in a CertID (RFC 6960 §4.1.1).
 * Derived once from the CA certificate, so every CRL and response matches
 * what relying parties hold byte for byte.
 */
import { createHash } from 'node:crypto';
import { readCertificateFields } from './certificate-fields';

/** The CertID hash algorithms a relying party may use (RFC 5019 §2.1.1: SHA-1; RFC 6960 also allows SHA-256). */
export type CertIdHashAlgorithm = 'sha1' | 'sha256';

/** issuerNameHash and issuerKeyHash for one hash algorithm. */
export interface IssuerHashes {
  nameHash: Uint8Array;
  keyHash: Uint8Array;
}

/** A CA as the issuer of CRLs and the subject of OCSP CertIDs. */
export interface RevocationIssuer {
  /** DER of the CA certificate. */
  certificateDer: Uint8Array;
  /** DER of the CA's subject Name: the CRL issuer (RFC 5280 §5.1.2.3). */
  nameDer: Uint8Array;
  /** DER SubjectPublicKeyInfo of the CA key: a signer must hold this key. */
  subjectPublicKeyInfoDer: Uint8Array;
  /** The CA's subjectKeyIdentifier, or SHA-1 of its key bits when the certificate has none (RFC 5280 §4.2.1.2 (1)). */
  keyIdentifier: Uint8Array;
  /** CertID hashes of this CA (RFC 6960 §4.1.1) by hash algorithm. */
  certIdHashes: Record<CertIdHashAlgorithm, IssuerHashes>;
}

/** Reads a CA certificate (DER) into a {@link RevocationIssuer}. Throws RangeError if it is not a certificate. */
export function revocationIssuerFromCertificate(caCertificateDer: Uint8Array): RevocationIssuer {
  const fields = readCertificateFields(caCertificateDer);
  const hashes = (algorithm: CertIdHashAlgorithm): IssuerHashes => ({
    nameHash: digest(algorithm, fields.subjectNameDer),
    keyHash: digest(algorithm, fields.subjectPublicKey),
  });
  return {
    certificateDer: caCertificateDer.slice(),
    nameDer: fields.subjectNameDer.slice(),
    subjectPublicKeyInfoDer: fields.subjectPublicKeyInfoDer.slice(),
    keyIdentifier: (fields.subjectKeyIdentifier ?? digest('sha1', fields.subjectPublicKey)).slice(),
    certIdHashes: { sha1: hashes('sha1'), sha256: hashes('sha256') },
  };
}

function digest(algorithm: CertIdHashAlgorithm, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash(algorithm).update(data).digest());
}
