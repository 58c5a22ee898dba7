/**
 * Fermat's factorisation for a bounded number of rounds: if the primes p and
 * q of n are close, n = a^2 - b^2 with a = (p+q)/2 just above sqrt(n), and a
 * few rounds find it (CVE-2022-26320 found such keys in the wild; Boulder's
 * goodkey runs the same test). With r rounds every modulus whose primes
 * differ by less than about 2 * (2r)^(1/2) * n^(1/4) is caught; random
 * 1024-bit primes differ by about 2^1023, far outside that range.
 */
import { isqrt } from './bigint-arithmetic';

/** Default number of rounds (Boulder uses 100). */
export const DEFAULT_FERMAT_ROUNDS = 100;

/** Quadratic residues modulo small numbers, to skip most square-root computations. */
const SQUARE_FILTERS: ReadonlyArray<{ modulus: bigint; squares: Set<number> }> = [64, 63, 65, 11].map((m) => {
  const squares = new Set<number>();
  for (let i = 0; i < m; i++) squares.add((i * i) % m);
  return { modulus: BigInt(m), squares };
});

function isSquare(value: bigint): bigint | undefined {
  for (const filter of SQUARE_FILTERS) if (!filter.squares.has(Number(value % filter.modulus))) return undefined;
  const root = isqrt(value);
  return root * root === value ? root : undefined;
}

/** The factors (p, q) with p <= q when Fermat's method finds them within `rounds`, else undefined. */
export function fermatFactor(modulus: bigint, rounds: number = DEFAULT_FERMAT_ROUNDS): [bigint, bigint] | undefined {
  if (modulus < 4n) return undefined;
  let a = isqrt(modulus);
  if (a * a === modulus) return [a, a];
  a += 1n;
  let b2 = a * a - modulus;
  for (let round = 0; round < rounds; round++) {
    const b = isSquare(b2);
    if (b !== undefined) return [a - b, a + b];
    // (a+1)^2 - n = a^2 - n + 2a + 1
    b2 += 2n * a + 1n;
    a += 1n;
  }
  return undefined;
}
