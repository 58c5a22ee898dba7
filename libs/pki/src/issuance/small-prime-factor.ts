/**
 * Trial division of an RSA modulus by every prime below a bound. A modulus
 * with a small factor is trivially factored; the 2013 study of Taiwan
 * citizen-card keys ("Factoring RSA keys from certified smart cards:
 * Coppersmith in the wild", Bernstein et al.) found card moduli whose primes
 * came from a broken generator, and a CA must never certify a modulus that a
 * few thousand divisions break (DOMAIN.md; CA/B BR §6.1.6 asks for the same).
 */
import { primesBelow } from './bigint-arithmetic';

/** Default trial-division bound: all primes below 10,000 (1,229 primes). */
export const DEFAULT_SMALL_PRIME_BOUND = 10_000;

interface PrimeGroup {
  product: bigint;
  primes: number[];
}

const groupsByBound = new Map<number, PrimeGroup[]>();

/**
 * Primes grouped so that each group's product stays below 2^53: one bigint
 * remainder per group, then exact floating-point remainders per prime.
 */
function primeGroups(bound: number): PrimeGroup[] {
  let groups = groupsByBound.get(bound);
  if (!groups) {
    groups = [];
    let current: number[] = [];
    let product = 1;
    for (const prime of primesBelow(bound)) {
      if (product * prime > Number.MAX_SAFE_INTEGER) {
        groups.push({ product: BigInt(product), primes: current });
        current = [];
        product = 1;
      }
      current.push(prime);
      product *= prime;
    }
    if (current.length) groups.push({ product: BigInt(product), primes: current });
    groupsByBound.set(bound, groups);
  }
  return groups;
}

/** The smallest prime below `bound` dividing `modulus`, or undefined. */
export function findSmallPrimeFactor(modulus: bigint, bound: number = DEFAULT_SMALL_PRIME_BOUND): number | undefined {
  for (const group of primeGroups(bound)) {
    const residue = Number(modulus % group.product);
    for (const prime of group.primes) if (residue % prime === 0) return prime;
  }
  return undefined;
}
