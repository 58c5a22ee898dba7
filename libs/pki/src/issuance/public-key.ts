/**
 * SubjectPublicKeyInfo decoding (RFC 5280 §4.1.2.7) for the key types a
 * holder may certify: RSA (RFC 3279 §2.3.1) and ECDSA on P-256 / P-384
 * (RFC 5480 §2). The result carries the numbers the key-quality checks need.
 */
import { createHash } from 'node:crypto';
import { OID } from '../oids';
import { bitLength, bytesToBigInt, modPow } from './bigint-arithmetic';
import { childrenOf, content, readBitStringBytes, readInteger, readOid, readSingle, Tag } from './der-reader';
import { KeyRejectionCode, reject, Rejection } from './rejection';

/** An RSA public key: modulus n and public exponent e. */
export interface RsaPublicKey {
  readonly kind: 'RSA';
  readonly modulus: bigint;
  readonly publicExponent: bigint;
  readonly modulusBits: number;
  readonly spki: Uint8Array;
}

/** An EC public key on a named curve, as its uncompressed point. */
export interface EcPublicKey {
  readonly kind: 'EC';
  readonly curve: 'P-256' | 'P-384';
  readonly point: Uint8Array;
  readonly spki: Uint8Array;
}

export type SubjectPublicKey = RsaPublicKey | EcPublicKey;

/** NIST curve parameters (FIPS 186-4 D.1.2.3, D.1.2.4): y^2 = x^3 - 3x + b mod p. */
const CURVES = {
  'P-256': {
    oid: OID.secp256r1,
    bytes: 32,
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
  },
  'P-384': {
    oid: OID.secp384r1,
    bytes: 48,
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
  },
} as const;

/** Decodes a DER SubjectPublicKeyInfo; refuses anything but RSA or EC on P-256/P-384. */
export function parseSubjectPublicKeyInfo(spki: Uint8Array): { ok: true; key: SubjectPublicKey } | Rejection<KeyRejectionCode> {
  let algorithm: string;
  let parameters: ReturnType<typeof readSingle> | undefined;
  let keyBytes: Uint8Array;
  try {
    const [algorithmId, subjectPublicKey, ...extra] = childrenOf(readSingle(spki), Tag.sequence, 'SubjectPublicKeyInfo');
    if (!algorithmId || !subjectPublicKey || extra.length) throw new RangeError('SubjectPublicKeyInfo has two fields');
    const [oid, params, ...more] = childrenOf(algorithmId, Tag.sequence, 'AlgorithmIdentifier');
    if (more.length) throw new RangeError('AlgorithmIdentifier has at most two fields');
    algorithm = readOid(oid);
    parameters = params;
    keyBytes = readBitStringBytes(subjectPublicKey);
  } catch (cause) {
    return reject('key-malformed', `SubjectPublicKeyInfo: ${(cause as Error).message}`);
  }
  if (algorithm === OID.rsaEncryption) return parseRsa(spki, parameters, keyBytes);
  if (algorithm === OID.ecPublicKey) return parseEc(spki, parameters, keyBytes);
  return reject('key-algorithm-not-allowed', `public key algorithm ${algorithm} is not allowed (RSA or ECDSA P-256/P-384)`);
}

function parseRsa(
  spki: Uint8Array,
  parameters: ReturnType<typeof readSingle> | undefined,
  keyBytes: Uint8Array,
): { ok: true; key: RsaPublicKey } | Rejection<KeyRejectionCode> {
  try {
    // RFC 3279 §2.3.1: the parameters field MUST be NULL.
    if (!parameters || parameters.tag !== Tag.null || content(parameters).length !== 0) {
      throw new RangeError('rsaEncryption parameters must be NULL');
    }
    const [n, e, ...extra] = childrenOf(readSingle(keyBytes), Tag.sequence, 'RSAPublicKey');
    if (!n || !e || extra.length) throw new RangeError('RSAPublicKey has two fields');
    const modulus = readInteger(n);
    const publicExponent = readInteger(e);
    if (modulus <= 0n || publicExponent <= 0n) throw new RangeError('RSA modulus and exponent must be positive');
    return { ok: true, key: { kind: 'RSA', modulus, publicExponent, modulusBits: bitLength(modulus), spki } };
  } catch (cause) {
    return reject('key-malformed', `RSA public key: ${(cause as Error).message}`);
  }
}

function parseEc(
  spki: Uint8Array,
  parameters: ReturnType<typeof readSingle> | undefined,
  point: Uint8Array,
): { ok: true; key: EcPublicKey } | Rejection<KeyRejectionCode> {
  let curveOid: string;
  try {
    // RFC 5480 §2.1.1: namedCurve only; implicit and specified curves MUST NOT be used.
    if (!parameters) throw new RangeError('ecPublicKey without parameters');
    curveOid = readOid(parameters);
  } catch (cause) {
    return reject('key-algorithm-not-allowed', `EC parameters must name a curve: ${(cause as Error).message}`);
  }
  const entry = Object.entries(CURVES).find(([, curve]) => curve.oid === curveOid);
  if (!entry) return reject('key-algorithm-not-allowed', `EC curve ${curveOid} is not allowed (P-256 or P-384)`);
  const [name, curve] = entry as [EcPublicKey['curve'], (typeof CURVES)[EcPublicKey['curve']]];
  // RFC 5480 §2.2: the uncompressed form MUST be supported; this CA accepts only that form.
  if (point.length !== 1 + 2 * curve.bytes || point[0] !== 0x04) {
    return reject('key-point-invalid', `${name} public key is not an uncompressed point`);
  }
  const x = bytesToBigInt(point.subarray(1, 1 + curve.bytes));
  const y = bytesToBigInt(point.subarray(1 + curve.bytes));
  const { p, b } = curve;
  // SEC 1 §3.2.2.1: coordinates in [0, p-1] and the point on the curve.
  if (x >= p || y >= p || (y * y - (modPow(x, 3n, p) - 3n * x + b)) % p !== 0n) {
    return reject('key-point-invalid', `the point is not on ${name}`);
  }
  return { ok: true, key: { kind: 'EC', curve: name, point, spki } };
}

/** SHA-256 of the DER SubjectPublicKeyInfo: the key's identity for "already in use" look-ups. */
export function spkiSha256(spki: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(spki).digest());
}
