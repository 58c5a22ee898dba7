import { randomBytes } from 'node:crypto';
import { batchGcd, productTree, remainderTree, scaledRemainderTree } from './batch-gcd';
import { randomPrime, seededBytes } from './testing/key-fixtures';

const random = seededBytes('batch-gcd.spec');
const primes = Array.from({ length: 24 }, () => randomPrime(128, random));

describe('batchGcd', () => {
  const independent = Array.from({ length: 10 }, (_, i) => primes[2 * i] * primes[2 * i + 1]);
  const shared = primes[20] * primes[0]; // shares primes[0] with independent[0]

  it('finds nothing among independent moduli', () => {
    expect(batchGcd(independent)).toEqual([]);
  });

  it.each([1, 3, 4, 1 << 15])('finds a shared prime, both moduli, with groups of %i', (groupSize) => {
    const findings = batchGcd([...independent, shared], { groupSize });
    expect(findings).toEqual([
      { index: 0, factor: primes[0], kind: 'shared-prime' },
      { index: 10, factor: primes[0], kind: 'shared-prime' },
    ]);
  });

  it('tells a duplicated modulus from shared primes, and names a prime when both are shared', () => {
    const both = primes[0] * primes[3]; // primes[0] from independent[0], primes[3] from independent[1]
    const findings = batchGcd([...independent, independent[5], both], { groupSize: 4 });
    expect(findings).toEqual(
      expect.arrayContaining([
        { index: 5, factor: independent[5], kind: 'duplicate-modulus' },
        { index: 10, factor: independent[5], kind: 'duplicate-modulus' },
        expect.objectContaining({ index: 11, kind: 'shared-prime' }),
      ]),
    );
    const third = findings.find((finding) => finding.index === 11)!;
    expect([primes[0], primes[3]]).toContain(third.factor);
  });

  it.each([1, 2, 7, 64, 333])('the scaled remainder tree gives the exact cofactors of the plain one (%i leaves)', (count) => {
    const values = Array.from({ length: count }, () => BigInt('0x' + randomBytes(64).toString('hex')) | (1n << 511n) | 1n);
    const levels = productTree(values);
    const root = levels[levels.length - 1][0];
    expect(scaledRemainderTree(levels, 1n)).toEqual(remainderTree(levels, root));
    // as a group of a larger batch: the rest of the product is `others` modulo the group's root
    const others = BigInt('0x' + randomBytes(80).toString('hex'));
    expect(scaledRemainderTree(levels, others % root)).toEqual(remainderTree(levels, (root * others) % (root * root)));
  });

  it('builds a product tree whose root is the product', () => {
    const levels = productTree([2n, 3n, 5n, 7n, 11n]);
    expect(levels[levels.length - 1]).toEqual([2310n]);
  });
});
