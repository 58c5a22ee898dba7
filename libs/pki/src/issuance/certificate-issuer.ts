/**
 * The issuing CA as a certificate's fields need it: its subject Name (copied
 * byte for byte into the issuer field, RFC 5280 §4.1.2.4 and §7.1 name
 * chaining), its key identifier (for the authorityKeyIdentifier, §4.2.1.1),
 * its public key (to verify each signature before release) and its validity.
 */
import { hash } from 'node:crypto';
import { OID } from '../oids';
import { algorithmIdentifierDer } from '../signing/signed-structure';
import { SignatureAlgorithm } from '../signing/signer';
import { childrenOf, content, readBitStringBytes, readBoolean, readNamedBits, readSingle, Tag } from './der-reader';
import { parseSubjectPublicKeyInfo } from './public-key';
import { readCertificate } from './tbs-certificate-reader';

export interface CertificateIssuer {
  readonly certificateDer: Uint8Array;
  readonly subjectDer: Uint8Array;
  readonly publicKeySpki: Uint8Array;
  readonly subjectKeyIdentifier: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The algorithm the issuer's key signs with (RSA: sha256WithRSAEncryption; P-256/P-384: ECDSA with SHA-256/384). */
  readonly signatureAlgorithm: SignatureAlgorithm;
  /** DER AlgorithmIdentifier of that algorithm, as it goes into TBSCertificate.signature (RFC 5280 §4.1.2.3). */
  readonly signatureAlgorithmDer: Uint8Array;
}

/**
 * RFC 5280 §4.2.1.2 method (1): the SHA-1 of the subjectPublicKey BIT STRING
 * value (not a security use of SHA-1: an identifier).
 */
export function keyIdentifier(spki: Uint8Array): Uint8Array {
  const [, subjectPublicKey] = childrenOf(readSingle(spki), Tag.sequence, 'SubjectPublicKeyInfo');
  // One-shot hash: the lint recomputes this for every certificate it checks.
  return new Uint8Array(hash('sha1', readBitStringBytes(subjectPublicKey), 'buffer'));
}

/**
 * Describes an issuing CA from its certificate (DER, or PEM text). Throws
 * when it is not a CA certificate: basicConstraints cA must be TRUE and a
 * keyUsage, if present, must allow keyCertSign (RFC 5280 §4.2.1.9, §4.2.1.3).
 */
export function describeIssuer(certificate: Uint8Array | string): CertificateIssuer {
  const certificateDer =
    typeof certificate === 'string'
      ? new Uint8Array(Buffer.from(certificate.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, ''), 'base64'))
      : certificate;
  const fields = readCertificate(certificateDer);
  const basicConstraints = fields.extensions.find((e) => e.oid === OID.basicConstraints);
  const constraints = basicConstraints ? childrenOf(readSingle(basicConstraints.value), Tag.sequence, 'BasicConstraints') : [];
  if (!constraints[0] || constraints[0].tag !== Tag.boolean || !readBoolean(constraints[0])) {
    throw new RangeError('the issuer certificate is not a CA certificate (basicConstraints cA is not TRUE)');
  }
  const keyUsage = fields.extensions.find((e) => e.oid === OID.keyUsage);
  if (keyUsage && !readNamedBits(readSingle(keyUsage.value)).has(5)) {
    throw new RangeError('the issuer certificate does not allow keyCertSign');
  }
  const parsed = parseSubjectPublicKeyInfo(fields.subjectPublicKeyInfoDer);
  if (!parsed.ok) throw new RangeError(`issuer key: ${parsed.detail}`);
  const key = parsed.key;
  const signatureAlgorithm: SignatureAlgorithm =
    key.kind === 'RSA' ? 'sha256WithRSAEncryption' : key.curve === 'P-256' ? 'ecdsaWithSHA256' : 'ecdsaWithSHA384';
  const ski = fields.extensions.find((e) => e.oid === OID.subjectKeyIdentifier);
  return {
    certificateDer,
    subjectDer: fields.subjectDer,
    publicKeySpki: fields.subjectPublicKeyInfoDer,
    // RFC 5280 §4.2.1.1: the AKI keyIdentifier is the issuer's SKI when it has one.
    subjectKeyIdentifier: ski ? content(readSingle(ski.value)).slice() : keyIdentifier(fields.subjectPublicKeyInfoDer),
    notBefore: fields.notBefore,
    notAfter: fields.notAfter,
    signatureAlgorithm,
    signatureAlgorithmDer: algorithmIdentifierDer(signatureAlgorithm),
  };
}
