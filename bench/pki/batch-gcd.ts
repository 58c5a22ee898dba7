/**
 * Shared-prime detection at scale: the batch GCD sweep (product tree +
 * remainder tree, libs/pki/src/issuance/batch-gcd.ts) and the incremental
 * check against chunked products (shared-prime-index.ts).
 *
 * Run:  npm run build && node_modules/.bin/node dist/bench/pki/batch-gcd.js [counts...]
 *       (default counts: 10000 100000; node_modules/.bin/node is the project's Node 24)
 *
 * The moduli are random odd 2048-bit integers (top bit set), not RSA moduli:
 * generating 200,000 real 1024-bit primes would take hours, and the cost of
 * the trees and of the gcds depends only on the sizes. A few true RSA moduli
 * sharing a prime are planted and must be reported. Random integers share
 * small factors, so most of them are "flagged" too; that is expected here and
 * costs nothing extra (a real CA's moduli have no small factors).
 *
 * CPU time is printed beside wall time: on a shared machine it is the
 * figure that says what one dedicated core would take.
 */
import { generatePrimeSync, randomBytes } from 'node:crypto';
import { batchGcd } from '../../libs/pki/src/issuance/batch-gcd';
import { ChunkedModulusProducts, findSharedPrime } from '../../libs/pki/src/issuance/shared-prime-index';

function randomModulus(): bigint {
  return BigInt('0x' + randomBytes(256).toString('hex')) | (1n << 2047n) | 1n;
}

function prime1024(): bigint {
  return generatePrimeSync(1024, { bigint: true }) | 0n;
}

function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function main(): Promise<void> {
  const counts = process.argv.slice(2).map(Number);
  for (const count of counts.length ? counts : [10_000, 100_000]) {
    const moduli = Array.from({ length: count }, randomModulus);
    const shared = prime1024();
    const plantedAt = [Math.floor(count / 3), count - 1];
    for (const index of plantedAt) moduli[index] = shared * prime1024();

    const start = process.hrtime.bigint();
    const cpuStart = process.cpuUsage();
    const findings = batchGcd(moduli);
    const elapsed = seconds(start);
    const cpu = process.cpuUsage(cpuStart);
    const found = plantedAt.every((index) => findings.some((finding) => finding.index === index && finding.factor % shared === 0n));
    console.log(
      `batch GCD: ${count} moduli of 2048 bits in ${elapsed.toFixed(1)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU ` +
        `(planted shared prime found: ${found})`,
    );

    const index = new ChunkedModulusProducts(1024);
    moduli.forEach((n) => index.add(n));
    const probe = randomModulus();
    const checkStart = process.hrtime.bigint();
    const rounds = 5;
    for (let i = 0; i < rounds; i++) await findSharedPrime(probe | BigInt(i * 2), index);
    const perCheck = seconds(checkStart) / rounds;
    console.log(
      `incremental check: ${(perCheck * 1000).toFixed(1)} ms per new modulus against ${count} certified moduli (chunks of 1024); ` +
        `~${((perCheck * 1e6) / count).toFixed(1)} s per million certified`,
    );
  }
}

void main();
