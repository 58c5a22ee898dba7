/**
 * CertID (RFC 6960 §4.1.1), the name of a certificate in OCSP:
 *
 *   CertID ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, issuerNameHash OCTET STRING,
 *                         issuerKeyHash OCTET STRING, serialNumber CertificateSerialNumber }
 *
 * A response echoes the CertID of the request; a pre-produced response
 * (RFC 5019 §2.1.1: SHA-1) is built with {@link encodeCertId}.
 */
import { OID } from '../oids';
import { DER_NULL, TAG, derObjectIdentifier, derOctetString, derSequence, derTlv } from './der-encoding';
import { CertIdHashAlgorithm, RevocationIssuer } from './revocation-issuer';
import { SerialNumber, serialIntegerContent } from './serial-number';

/** Output length of each CertID hash algorithm, in octets. */
export const CERT_ID_HASH_LENGTH: Record<CertIdHashAlgorithm, number> = { sha1: 20, sha256: 32 };

/** OBJECT IDENTIFIER of each CertID hash algorithm. */
export const CERT_ID_HASH_OID: Record<CertIdHashAlgorithm, string> = { sha1: OID.sha1, sha256: OID.sha256 };

/**
 * The DER CertID of a certificate of `issuer`. The hash AlgorithmIdentifier
 * carries NULL parameters, as OpenSSL writes them in requests (both forms are
 * accepted by the parser, RFC 5754 §2).
 */
export function encodeCertId(issuer: RevocationIssuer, hashAlgorithm: CertIdHashAlgorithm, serial: SerialNumber): Uint8Array {
  const hashes = issuer.certIdHashes[hashAlgorithm];
  if (!hashes) throw new RangeError(`unsupported CertID hash algorithm ${String(hashAlgorithm)}`);
  return derSequence(
    derSequence(derObjectIdentifier(CERT_ID_HASH_OID[hashAlgorithm]), DER_NULL),
    derOctetString(hashes.nameHash),
    derOctetString(hashes.keyHash),
    derTlv(TAG.integer, serialIntegerContent(serial)),
  );
}
