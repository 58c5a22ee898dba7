/**
 * Incremental shared-prime detection: before a modulus is certified, it is
 * tested against the products of every modulus this CA already certified.
 * In 2013, 103 of the 184 factored Taiwan citizen-card keys fell because two
 * cards' moduli shared a prime, found by a gcd (Bernstein et al., "Factoring
 * RSA keys from certified smart cards: Coppersmith in the wild"; DOMAIN.md).
 *
 * The caller persists the products (e.g. chunks of 1,024 moduli, 256 KiB
 * each, in a table) and adds every modulus once its certificate is stored.
 * A check reduces each product modulo n and multiplies the remainders modulo
 * n, then takes one gcd: gcd(n, prod_j (P_j mod n) mod n) = gcd(n, prod_j P_j),
 * because a prime dividing a product divides one of its factors.
 *
 * The cost is linear in the number of certified moduli, whatever the chunk
 * size: V8 reduces a product modulo a 2048-bit n at 6-10 µs per modulus in
 * it (bench/pki/batch-gcd.ts on the 2-core development VM: 40-80 ms per
 * check against 10,000 moduli, so about 4-8 s against a million). At
 * MOICA's scale (millions of cards) the check belongs off the counter's
 * critical path or sharded over workers (the index's products can be split
 * among them), with the {@link batchGcd} sweep as the complete backstop.
 */
import { gcd } from './bigint-arithmetic';

/** Products of already-certified RSA moduli, as persisted by the caller. */
export interface SharedPrimeIndex {
  /** Each value is the product of some certified moduli; together they cover all of them. */
  products(): AsyncIterable<bigint> | Iterable<bigint>;
}

/**
 * gcd(modulus, product of all indexed moduli) when it exceeds 1: a shared
 * prime, or the modulus itself (the modulus is already indexed, or both of
 * its primes are shared). Undefined when no prime is shared.
 */
export async function findSharedPrime(modulus: bigint, index: SharedPrimeIndex): Promise<bigint | undefined> {
  let accumulated = 1n;
  for await (const product of index.products()) {
    accumulated = (accumulated * (product % modulus)) % modulus;
    if (accumulated === 0n) return modulus;
  }
  const shared = gcd(modulus, accumulated);
  return shared === 1n ? undefined : shared;
}

/** A snapshot of {@link ChunkedModulusProducts}, for persistence. */
export interface ChunkedModulusProductsState {
  readonly chunkSize: number;
  /** Products; every chunk but the last holds exactly `chunkSize` moduli. */
  readonly chunks: readonly bigint[];
  readonly countInLastChunk: number;
}

/**
 * An in-memory {@link SharedPrimeIndex} of fixed-size chunks. Appending costs
 * one multiplication of the open chunk; a snapshot round-trips through
 * {@link ChunkedModulusProducts.state} for storage.
 */
export class ChunkedModulusProducts implements SharedPrimeIndex {
  private readonly chunks: bigint[];
  private countInLastChunk: number;

  constructor(
    readonly chunkSize = 1024,
    state?: ChunkedModulusProductsState,
  ) {
    if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError('chunkSize must be a positive integer');
    if (state && state.chunkSize !== chunkSize) throw new RangeError('state was written with another chunk size');
    this.chunks = state ? [...state.chunks] : [];
    this.countInLastChunk = state ? state.countInLastChunk : 0;
  }

  /** Records a certified modulus (call once its certificate is stored). */
  add(modulus: bigint): void {
    if (modulus <= 1n) throw new RangeError('a modulus is greater than 1');
    if (this.chunks.length === 0 || this.countInLastChunk === this.chunkSize) {
      this.chunks.push(modulus);
      this.countInLastChunk = 1;
    } else {
      this.chunks[this.chunks.length - 1] *= modulus;
      this.countInLastChunk++;
    }
  }

  products(): Iterable<bigint> {
    return this.chunks;
  }

  /** Number of moduli recorded. */
  get size(): number {
    return this.chunks.length === 0 ? 0 : (this.chunks.length - 1) * this.chunkSize + this.countInLastChunk;
  }

  state(): ChunkedModulusProductsState {
    return { chunkSize: this.chunkSize, chunks: [...this.chunks], countInLastChunk: this.countInLastChunk };
  }
}
