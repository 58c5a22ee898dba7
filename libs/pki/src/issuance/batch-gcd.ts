/**
 * Batch GCD over every certified RSA modulus (Bernstein, "How to find smooth
 * parts of integers", 2004; the method of Heninger et al., "Mining your Ps
 * and Qs", 2012, and of the 2013 study that factored 103 Taiwan citizen-card
 * keys through shared primes; DOMAIN.md). For moduli n_1..n_m with product P:
 *
 *  - product tree: the leaves are the n_i, each node the product of its children;
 *  - remainder tree: from P at the root, each node holds P mod (node value)^2
 *    (computed as a scaled remainder tree, see {@link scaledRemainderTree});
 *  - at leaf i, (P mod n_i^2) / n_i = (P / n_i) mod n_i, and
 *    gcd(n_i, (P / n_i) mod n_i) > 1 exactly when n_i shares a prime with another modulus.
 *
 * Quasi-linear in the total size. A JavaScript bigint holds at most 2^30
 * bits, so millions of moduli are split into groups (default 2^15 moduli,
 * 64 Mbit per group product): for group A the remainder tree starts from
 * P_A * (prod_{B != A} P_B mod P_A), which equals P mod P_A^2. The cross-group
 * products cost K(K-1) modular multiplications of group-sized numbers for K
 * groups.
 *
 * Measured (bench/pki/batch-gcd.ts, Node 24.21, one thread of the shared
 * 2-core development VM, 2048-bit moduli): 10,000 moduli in 20 s of CPU,
 * 100,000 (4 groups) in 288 s of CPU (524 s wall under load). It is a
 * nightly/weekly job, not an issuance step; millions of moduli take hours
 * on one thread (the per-group trees are independent and can be spread
 * over worker threads; a GMP-backed tool is several times faster still).
 */
import { bitLength, gcd } from './bigint-arithmetic';

/** A modulus found to share a factor with another one in the batch. */
export interface SharedFactorFinding {
  /** Position of the modulus in the input. */
  readonly index: number;
  /** A non-trivial factor (a shared prime), or the modulus itself for a duplicate. */
  readonly factor: bigint;
  readonly kind: 'shared-prime' | 'duplicate-modulus';
}

export interface BatchGcdOptions {
  /** Moduli per group (default 32,768; at most ~2^18 for 2048-bit moduli). */
  readonly groupSize?: number;
}

/** Product tree, leaves first; the last level holds the root. */
export function productTree(values: readonly bigint[]): bigint[][] {
  const levels: bigint[][] = [[...values]];
  for (let level = levels[0]; level.length > 1; ) {
    const next: bigint[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? level[i] * level[i + 1] : level[i]);
    levels.push(next);
    level = next;
  }
  return levels;
}

/**
 * The plain remainder tree: given `top` = P mod root^2, returns
 * (P / n_i) mod n_i for every leaf, dividing at every node. Kept as the
 * reference for {@link scaledRemainderTree}.
 */
export function remainderTree(levels: bigint[][], top: bigint): bigint[] {
  let remainders = [top];
  for (let depth = levels.length - 2; depth >= 0; depth--) {
    const level = levels[depth];
    const next: bigint[] = new Array(level.length);
    for (let i = 0; i < level.length; i++) next[i] = remainders[i >> 1] % (level[i] * level[i]);
    remainders = next;
  }
  return remainders.map((remainder, i) => remainder / levels[0][i]);
}

/** Guard bits of the scaled remainder tree: absorbs one truncation per level (2^64 >> tree depth). */
const GUARD_BITS = 64;

/**
 * The scaled remainder tree (Bernstein, "Scaling remainder trees", 2004):
 * each node v holds the fraction y_v = (P mod X_v^2) / X_v^2 in fixed point
 * with 2*|X_v| + 64 bits, and a child's fraction is the fractional part of
 * y_parent * X_sibling^2. Every step is a multiplication and a truncation
 * instead of a division, about twice as fast on V8, whose long division
 * costs four to five multiplications. At a leaf, round(y_i * n_i) =
 * (P mod n_i^2) / n_i = (P / n_i) mod n_i exactly: the error is a few units
 * in the last of 64 guard bits.
 *
 * `others` is P / root mod root (1 for a single group): y_root = others / root.
 */
export function scaledRemainderTree(levels: bigint[][], others: bigint): bigint[] {
  const top = levels.length - 1;
  const root = levels[top][0];
  let scale = [2 * bitLength(root) + GUARD_BITS];
  let fractions = [(others << BigInt(scale[0])) / root];
  for (let depth = top - 1; depth >= 0; depth--) {
    const level = levels[depth];
    const nextFractions: bigint[] = new Array(level.length);
    const nextScale: number[] = new Array(level.length);
    for (let i = 0; i < level.length; i++) {
      const parent = i >> 1;
      const sibling = i ^ 1;
      if (sibling >= level.length) {
        // carried up unchanged by productTree: same node, same fraction
        nextFractions[i] = fractions[parent];
        nextScale[i] = scale[parent];
        continue;
      }
      const siblingValue = level[sibling];
      const product = BigInt.asUintN(scale[parent], fractions[parent] * (siblingValue * siblingValue));
      const childScale = 2 * bitLength(level[i]) + GUARD_BITS;
      nextFractions[i] = product >> BigInt(scale[parent] - childScale);
      nextScale[i] = childScale;
    }
    fractions = nextFractions;
    scale = nextScale;
  }
  return levels[0].map((n, i) => {
    const s = BigInt(scale[i]);
    return ((fractions[i] * n + (1n << (s - 1n))) >> s) % n; // a fraction just below 1 rounds to n, i.e. 0
  });
}

/** Every modulus that shares a prime with another modulus of the list (or appears twice). */
export function batchGcd(moduli: readonly bigint[], options: BatchGcdOptions = {}): SharedFactorFinding[] {
  const groupSize = options.groupSize ?? 1 << 15;
  if (!Number.isInteger(groupSize) || groupSize < 1) throw new RangeError('groupSize must be a positive integer');
  for (const n of moduli) if (n <= 1n) throw new RangeError('moduli are greater than 1');
  if (moduli.length < 2) return [];

  const groups: (readonly bigint[])[] = [];
  for (let i = 0; i < moduli.length; i += groupSize) groups.push(moduli.slice(i, i + groupSize));
  // Trees are rebuilt per group rather than kept: a 2^15-modulus tree of 2048-bit moduli holds ~128 MiB per group.
  let singleTree: bigint[][] | undefined;
  const roots = groups.map((group) => {
    const levels = productTree(group);
    if (groups.length === 1) singleTree = levels;
    return levels[levels.length - 1][0];
  });

  const flagged: { index: number; shared: bigint }[] = [];
  groups.forEach((group, a) => {
    const rootA = roots[a];
    let others = 1n;
    for (let b = 0; b < groups.length; b++) if (b !== a) others = (others * (roots[b] % rootA)) % rootA;
    const levels = singleTree ?? productTree(group);
    const cofactors = scaledRemainderTree(levels, others % rootA);
    group.forEach((n, i) => {
      const shared = gcd(cofactors[i], n);
      if (shared !== 1n) flagged.push({ index: a * groupSize + i, shared });
    });
  });
  return flagged.map(({ index, shared }) => resolve(moduli, index, shared, flagged));
}

/**
 * A gcd equal to the modulus means both of its primes are shared, or the
 * modulus is duplicated: the (few) flagged moduli are compared pairwise to
 * tell which, and to name a prime when there is one.
 */
function resolve(moduli: readonly bigint[], index: number, shared: bigint, flagged: { index: number }[]): SharedFactorFinding {
  const n = moduli[index];
  if (shared !== n) return { index, factor: shared, kind: 'shared-prime' };
  let duplicate = false;
  for (const other of flagged) {
    if (other.index === index) continue;
    const g = gcd(n, moduli[other.index]);
    if (g !== 1n && g !== n) return { index, factor: g, kind: 'shared-prime' };
    if (g === n) duplicate = true;
  }
  return { index, factor: n, kind: duplicate ? 'duplicate-modulus' : 'shared-prime' };
}
