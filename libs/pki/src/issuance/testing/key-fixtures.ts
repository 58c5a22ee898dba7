/**
 * Test fixtures: RSA keys with chosen primes (shared, adjacent, ROCA-shaped)
 * and PKCS#10 requests signed by any private key. Deterministic where it
 * matters (a seeded byte stream), so failures reproduce.
 */
import { checkPrimeSync, createHash, createPrivateKey, createPublicKey, KeyObject, sign } from 'node:crypto';
import { OID } from '../../oids';
import { bigIntToBytes, bytesToBigInt, gcd, modPow } from '../bigint-arithmetic';
import {
  concatBytes,
  DER_NULL,
  derBitString,
  derObjectIdentifier,
  derSequence,
  derSet,
  derTlv,
  derUnsignedInteger,
  derUtf8String,
} from '../der-writer';
import { ROCA_GENERATOR, ROCA_PRIMES } from '../roca-fingerprint';

/** A deterministic byte stream (SHA-256 in counter mode) for reproducible fixtures. */
export function seededBytes(seed: string): (size: number) => Uint8Array {
  let counter = 0;
  return (size) => {
    const out: Uint8Array[] = [];
    let length = 0;
    while (length < size) {
      const block = createHash('sha256').update(`${seed}/${counter++}`).digest();
      out.push(block);
      length += block.length;
    }
    return concatBytes(out).subarray(0, size);
  };
}

/** The first prime >= start. */
export function nextPrime(start: bigint): bigint {
  let candidate = start | 1n;
  while (!checkPrimeSync(candidate)) candidate += 2n;
  return candidate;
}

/** A prime of exactly `bits` bits with its two top bits set (so two of them make a 2*bits-bit modulus). */
export function randomPrime(bits: number, random: (size: number) => Uint8Array): bigint {
  const raw = bytesToBigInt(random(bits / 8));
  return nextPrime(raw | (3n << BigInt(bits - 2)));
}

/** M = 2 * 3 * 5 * ... * 167: the primorial of the ROCA detector's primes. */
export const ROCA_PRIMORIAL = ROCA_PRIMES.reduce((product, prime) => product * BigInt(prime), 2n);

/** A prime of the RSALib form p = k*M + (65537^a mod M) (CVE-2017-15361), `bits` bits long. */
export function rocaPrime(bits: number, random: (size: number) => Uint8Array): bigint {
  const a = bytesToBigInt(random(8));
  const residue = modPow(BigInt(ROCA_GENERATOR), a, ROCA_PRIMORIAL);
  const low = 3n << BigInt(bits - 2);
  let k = (low + bytesToBigInt(random(bits / 8 - 8))) / ROCA_PRIMORIAL;
  for (;;) {
    const p = k * ROCA_PRIMORIAL + residue;
    if (p >= low && checkPrimeSync(p)) return p;
    k += 1n;
  }
}

function modInverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [a % m, m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  if (oldR !== 1n) throw new RangeError('not invertible');
  return ((oldS % m) + m) % m;
}

const b64u = (value: bigint) => Buffer.from(bigIntToBytes(value)).toString('base64url');

/** An RSA private key (node KeyObject) from its primes. */
export function rsaKeyFromPrimes(p: bigint, q: bigint, e = 65537n): KeyObject {
  const lambda = ((p - 1n) * (q - 1n)) / gcd(p - 1n, q - 1n);
  const d = modInverse(e, lambda);
  return createPrivateKey({
    format: 'jwk',
    key: {
      kty: 'RSA',
      n: b64u(p * q),
      e: b64u(e),
      d: b64u(d),
      p: b64u(p),
      q: b64u(q),
      dp: b64u(d % (p - 1n)),
      dq: b64u(d % (q - 1n)),
      qi: b64u(modInverse(q, p)),
    },
  });
}

/** DER SubjectPublicKeyInfo of an RSA public key given as numbers. */
export function rsaSpki(modulus: bigint, exponent: bigint): Uint8Array {
  const rsaPublicKey = derSequence(derUnsignedInteger(bigIntToBytes(modulus)), derUnsignedInteger(bigIntToBytes(exponent)));
  return derSequence(derSequence(derObjectIdentifier(OID.rsaEncryption), DER_NULL), derBitString(rsaPublicKey));
}

export function spkiOf(key: KeyObject): Uint8Array {
  const publicKey = key.type === 'public' ? key : createPublicKey(key);
  return new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
}

export interface TestCsrOptions {
  /** Signature algorithm OID (default sha256WithRSAEncryption or ecdsa-with-SHA256 by key type). */
  signatureAlgorithm?: string;
  /** Key whose SPKI goes into the request (default: the signing key's). */
  spki?: Uint8Array;
  version?: number;
  /** Replace the signature with these bytes. */
  signature?: Uint8Array;
  /** Flip the last bit of the signature. */
  tamper?: boolean;
}

/** A PKCS#10 request for /CN=x signed by `privateKey` (RFC 2986 §4). */
export function buildTestCsr(privateKey: KeyObject, options: TestCsrOptions = {}): Uint8Array {
  const isEc = privateKey.asymmetricKeyType === 'ec';
  const algorithm = options.signatureAlgorithm ?? (isEc ? OID.ecdsaWithSHA256 : OID.sha256WithRSAEncryption);
  const hash: Record<string, string> = {
    [OID.sha256WithRSAEncryption]: 'sha256',
    [OID.ecdsaWithSHA256]: 'sha256',
    [OID.ecdsaWithSHA384]: 'sha384',
    '1.2.840.113549.1.1.5': 'sha1',
  };
  const subject = derSequence(derSet(derSequence(derObjectIdentifier(OID.commonName), derUtf8String('x'))));
  const info = derSequence(
    derTlv(0x02, Uint8Array.of(options.version ?? 0)),
    subject,
    options.spki ?? spkiOf(privateKey),
    derTlv(0xa0),
  );
  let signature = options.signature ?? new Uint8Array(sign(hash[algorithm] ?? 'sha256', info, { key: privateKey, dsaEncoding: 'der' }));
  if (options.tamper) {
    signature = signature.slice();
    signature[signature.length - 1] ^= 1;
  }
  const algorithmId = isEc ? derSequence(derObjectIdentifier(algorithm)) : derSequence(derObjectIdentifier(algorithm), DER_NULL);
  return derSequence(info, algorithmId, derBitString(signature));
}
