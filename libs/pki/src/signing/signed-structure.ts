/**
 * The outer shape shared by every signed X.509 structure:
 *
 *   Certificate  ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }  (RFC 5280 §4.1)
 *   CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue BIT STRING } (RFC 5280 §5.1)
 *   BasicOCSPResponse ::= SEQUENCE { tbsResponseData, signatureAlgorithm, signature BIT STRING, certs [0] OPTIONAL } (RFC 6960 §4.2.1)
 *   CertificationRequest ::= SEQUENCE { certificationRequestInfo, signatureAlgorithm, signature BIT STRING } (RFC 2986 §4.2)
 *
 * The TBS bytes are wrapped exactly as given: what was built (and linted) is
 * what gets signed (STYLE.md, the Boulder model).
 */
import { OID } from '../oids';
import { DER_NULL, derNestedBitString, derObjectIdentifier, derSequence, readDerHeader } from './der';
import { SignatureAlgorithm, Signer, SigningError } from './signer';

/**
 * DER AlgorithmIdentifier for a signature algorithm. sha256WithRSAEncryption
 * carries NULL parameters (RFC 4055 §5; RFC 8017 A.2.4); the ECDSA
 * algorithms carry no parameters at all (RFC 5758 §3.2).
 */
export function algorithmIdentifierDer(signatureAlgorithm: SignatureAlgorithm): Uint8Array {
  return encodedAlgorithmIdentifier(signatureAlgorithm).slice();
}

/** The three encodings, built once; shared, so only ever copied into larger encodings. */
const algorithmIdentifiers = new Map<SignatureAlgorithm, Uint8Array>();

function encodedAlgorithmIdentifier(signatureAlgorithm: SignatureAlgorithm): Uint8Array {
  let encoded = algorithmIdentifiers.get(signatureAlgorithm);
  if (!encoded) {
    encoded = encodeAlgorithmIdentifier(signatureAlgorithm);
    algorithmIdentifiers.set(signatureAlgorithm, encoded);
  }
  return encoded;
}

function encodeAlgorithmIdentifier(signatureAlgorithm: SignatureAlgorithm): Uint8Array {
  switch (signatureAlgorithm) {
    case 'sha256WithRSAEncryption':
      return derSequence(derObjectIdentifier(OID.sha256WithRSAEncryption), DER_NULL);
    case 'ecdsaWithSHA256':
      return derSequence(derObjectIdentifier(OID.ecdsaWithSHA256));
    case 'ecdsaWithSHA384':
      return derSequence(derObjectIdentifier(OID.ecdsaWithSHA384));
    default:
      throw new RangeError(`unsupported signature algorithm ${String(signatureAlgorithm)}`);
  }
}

/**
 * Signs a to-be-signed structure and returns the DER of
 * `SEQUENCE { tbs, AlgorithmIdentifier, BIT STRING signature }`.
 *
 * `tbsDer` must be exactly one DER SEQUENCE (a TBSCertificate, TBSCertList,
 * ResponseData or CertificationRequestInfo). Its inner signature field (where
 * it has one, e.g. TBSCertificate.signature, RFC 5280 §4.1.2.3) must already
 * equal `algorithmIdentifierDer(signer.signatureAlgorithm)`: the caller builds
 * the TBS with that value. A BasicOCSPResponse's optional `certs` are appended
 * with {@link assembleSignedWith}.
 */
export function assembleSigned(tbsDer: Uint8Array, signer: Signer): Promise<Uint8Array> {
  return assembleSignedWith(tbsDer, signer); // not async itself: one promise per signature, not two
}

/**
 * Like {@link assembleSigned}, with already-encoded trailing elements after
 * the BIT STRING (e.g. BasicOCSPResponse `certs [0] EXPLICIT SEQUENCE OF
 * Certificate`, RFC 6960 §4.2.1).
 */
export async function assembleSignedWith(
  tbsDer: Uint8Array,
  signer: Signer,
  ...trailing: Uint8Array[]
): Promise<Uint8Array> {
  assertSingleSequence(tbsDer, signer.keyLabel);
  const signature = await signer.sign(tbsDer);
  return derSequence(tbsDer, encodedAlgorithmIdentifier(signer.signatureAlgorithm), derNestedBitString(signature), ...trailing);
}

/** Splits a signed structure into its TBS bytes, AlgorithmIdentifier DER and signature bytes (copies). */
export function splitSigned(signedDer: Uint8Array): {
  tbsDer: Uint8Array;
  algorithmIdentifierDer: Uint8Array;
  signature: Uint8Array;
} {
  const parts = splitSignedViews(signedDer);
  return { tbsDer: parts.tbsDer.slice(), algorithmIdentifierDer: parts.algorithmIdentifierDer.slice(), signature: parts.signature.slice() };
}

/**
 * Like {@link splitSigned}, with views into `signedDer` instead of copies:
 * for a caller that checks the parts before anything else can see the
 * buffer (issuance verifies each certificate it has just assembled).
 */
export function splitSignedViews(signedDer: Uint8Array): {
  tbsDer: Uint8Array;
  algorithmIdentifierDer: Uint8Array;
  signature: Uint8Array;
} {
  const outer = readDerHeader(signedDer);
  if (outer.tag !== 0x30 || outer.end !== signedDer.length) throw new RangeError('not a single DER SEQUENCE');
  const tbs = readDerHeader(signedDer, outer.contentStart);
  const alg = readDerHeader(signedDer, tbs.end);
  const bits = readDerHeader(signedDer, alg.end);
  if (tbs.tag !== 0x30 || alg.tag !== 0x30 || bits.tag !== 0x03 || signedDer[bits.contentStart] !== 0) {
    throw new RangeError('not a signed structure (SEQUENCE, AlgorithmIdentifier, BIT STRING)');
  }
  return {
    tbsDer: signedDer.subarray(outer.contentStart, tbs.end),
    algorithmIdentifierDer: signedDer.subarray(tbs.end, alg.end),
    signature: signedDer.subarray(bits.contentStart + 1, bits.end),
  };
}

function assertSingleSequence(tbsDer: Uint8Array, keyLabel: string): void {
  try {
    const header = readDerHeader(tbsDer);
    if (header.tag !== 0x30) throw new RangeError(`outer tag is 0x${header.tag.toString(16)}, not SEQUENCE`);
    if (header.end !== tbsDer.length) throw new RangeError(`${tbsDer.length - header.end} trailing bytes`);
  } catch (cause) {
    throw new SigningError(keyLabel, 'the data to be signed is not a single DER SEQUENCE', { cause });
  }
}

