/**
 * Which holder keys the CA certifies at all (DOMAIN.md, the profile: RSA
 * holder keys, with ECDSA P-256/P-384 also supported). The exponent rule is
 * the CA/Browser Forum Baseline Requirements §6.1.6 rule (odd, at least
 * 2^16+1, at most 2^256-1), also applied by NIST SP 800-89 §5.3.3.
 */
import { SubjectPublicKey } from './public-key';
import { KeyRejectionCode, reject, Rejection } from './rejection';

/** RSA modulus sizes accepted by default. */
export const ALLOWED_RSA_MODULUS_BITS: readonly number[] = [2048, 3072, 4096];

const MIN_EXPONENT = 65537n;
const MAX_EXPONENT = (1n << 256n) - 1n;

/** Undefined when the key's algorithm, size and exponent are acceptable; the refusal otherwise. */
export function checkKeyAllowed(
  key: SubjectPublicKey,
  allowedRsaModulusBits: readonly number[] = ALLOWED_RSA_MODULUS_BITS,
): Rejection<KeyRejectionCode> | undefined {
  if (key.kind === 'EC') return undefined; // the curve was checked when the key was decoded
  if (!allowedRsaModulusBits.includes(key.modulusBits)) {
    return reject('key-size-not-allowed', `RSA modulus of ${key.modulusBits} bits (allowed: ${allowedRsaModulusBits.join(', ')})`);
  }
  const e = key.publicExponent;
  if (e % 2n === 0n || e < MIN_EXPONENT || e > MAX_EXPONENT) {
    return reject('key-exponent-not-allowed', `RSA public exponent ${e <= 1n << 64n ? e.toString() : 'of ' + e.toString(2).length + ' bits'} (must be odd, >= 65537, < 2^256)`);
  }
  return undefined;
}
