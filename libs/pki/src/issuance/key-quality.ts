/**
 * The key-quality gate every holder key passes before any certificate for it
 * is prepared (DOMAIN.md, the 2013 Taiwan citizen-card factorisations; CA/B
 * BR §6.1.1.3 asks a CA to refuse weak keys). RSA checks, in order of cost:
 *
 *  1. size and exponent ({@link checkKeyAllowed});
 *  2. no prime factor below the trial-division bound ({@link findSmallPrimeFactor});
 *  3. no ROCA fingerprint ({@link hasRocaFingerprint});
 *  4. primes not too close ({@link fermatFactor});
 *  5. the key is not already certified, through the caller's look-up;
 *  6. no prime shared with a certified modulus ({@link findSharedPrime}).
 *
 * EC keys were validated on decoding (named curve, point on the curve) and
 * only go through step 5.
 *
 * A renewal (DOMAIN.md, 展期) keeps the certified key: steps 5 and 6 would
 * find the key itself, so {@link checkRenewalKeyQuality} runs steps 1-4 only
 * (the rules may have tightened since the first issuance).
 */
import { checkKeyAllowed } from './allowed-key';
import { DEFAULT_FERMAT_ROUNDS, fermatFactor } from './fermat-factorisation';
import { SubjectPublicKey, spkiSha256 } from './public-key';
import { KeyRejectionCode, reject, Rejection } from './rejection';
import { hasRocaFingerprint } from './roca-fingerprint';
import { findSharedPrime, SharedPrimeIndex } from './shared-prime-index';
import { DEFAULT_SMALL_PRIME_BOUND, findSmallPrimeFactor } from './small-prime-factor';

/** Tunables of the checks that need no outside data. */
export interface IntrinsicKeyChecks {
  /** Trial division by all primes below this bound (default 10,000). */
  readonly smallPrimeBound?: number;
  /** Fermat rounds (default 100). */
  readonly fermatRounds?: number;
  /** RSA sizes accepted (default 2048, 3072, 4096). */
  readonly allowedRsaModulusBits?: readonly number[];
}

/** What a new key is checked against: the caller's records of certified keys. */
export interface KeyQualityContext extends IntrinsicKeyChecks {
  /** True when a certificate already exists for the key whose DER SubjectPublicKeyInfo has this SHA-256. */
  isKnownPublicKey(spkiSha256: Uint8Array): Promise<boolean>;
  /** Products of the certified RSA moduli. */
  readonly sharedPrimeIndex: SharedPrimeIndex;
}

/**
 * A key that passed the gate. Only this module creates one, so a certificate
 * cannot be prepared for a key that skipped the checks.
 */
export interface CheckedPublicKey {
  readonly key: SubjectPublicKey;
  /** Which gate it passed. */
  readonly checkedFor: 'new-key' | 'renewal';
}

export type KeyQualityResult = { readonly ok: true; readonly checked: CheckedPublicKey } | Rejection<KeyRejectionCode>;

const checkedKeys = new WeakSet<CheckedPublicKey>();

/** True when `value` was produced by {@link checkKeyQuality} or {@link checkRenewalKeyQuality}. */
export function isCheckedPublicKey(value: unknown): value is CheckedPublicKey {
  return typeof value === 'object' && value !== null && checkedKeys.has(value as CheckedPublicKey);
}

function pass(key: SubjectPublicKey, checkedFor: CheckedPublicKey['checkedFor']): KeyQualityResult {
  const checked: CheckedPublicKey = Object.freeze({ key, checkedFor });
  checkedKeys.add(checked);
  return { ok: true, checked };
}

/** Steps 1-4: the checks that depend on the key alone. Undefined when they all pass. */
export function checkIntrinsicKeyQuality(key: SubjectPublicKey, options: IntrinsicKeyChecks = {}): Rejection<KeyRejectionCode> | undefined {
  const refused = checkKeyAllowed(key, options.allowedRsaModulusBits);
  if (refused || key.kind !== 'RSA') return refused;
  const n = key.modulus;
  const bound = options.smallPrimeBound ?? DEFAULT_SMALL_PRIME_BOUND;
  const small = findSmallPrimeFactor(n, bound);
  if (small !== undefined) return reject('key-small-prime-factor', `the modulus is divisible by ${small}`);
  if (hasRocaFingerprint(n)) {
    return reject('key-roca-fingerprint', 'the modulus has the ROCA (CVE-2017-15361) structure; the card must be replaced');
  }
  const rounds = options.fermatRounds ?? DEFAULT_FERMAT_ROUNDS;
  if (fermatFactor(n, rounds)) return reject('key-primes-too-close', `Fermat's method factors the modulus within ${rounds} rounds`);
  return undefined;
}

/** The full gate for a key about to be certified for the first time (steps 1-6). */
export async function checkKeyQuality(key: SubjectPublicKey, context: KeyQualityContext): Promise<KeyQualityResult> {
  const intrinsic = checkIntrinsicKeyQuality(key, context);
  if (intrinsic) return intrinsic;
  if (await context.isKnownPublicKey(spkiSha256(key.spki))) {
    return reject('key-already-in-use', 'this public key is already certified');
  }
  if (key.kind === 'RSA') {
    const shared = await findSharedPrime(key.modulus, context.sharedPrimeIndex);
    if (shared !== undefined) {
      return reject(
        'key-shared-prime',
        shared === key.modulus
          ? 'the modulus divides the product of certified moduli (both primes shared, or the modulus already certified)'
          : 'the modulus shares a prime with a certified modulus',
      );
    }
  }
  return pass(key, 'new-key');
}

/** The gate for a renewal, which keeps an already-certified key: steps 1-4. */
export function checkRenewalKeyQuality(key: SubjectPublicKey, options: IntrinsicKeyChecks = {}): KeyQualityResult {
  return checkIntrinsicKeyQuality(key, options) ?? pass(key, 'renewal');
}
