/**
 * Issuance throughput: holder certificates prepared (profile checks, TBS
 * built, linted), signed and checked per second, side by side with the raw
 * signing rate of the same CA key in the same run. Also the rates of the
 * steps before issuance: PKCS#10 parsing with proof of possession, and the
 * key-quality gate for an RSA-2048 holder key.
 *
 * Run:  npm run build && node_modules/.bin/node dist/bench/pki/issuance.js [seconds-per-run] [runs]
 *       (defaults 2 s and 5 runs; node_modules/.bin/node is the project's Node 24)
 *
 * Raw signing and issuance alternate in small batches within each run, and
 * each is timed by the process CPU time it used (process.cpuUsage), so that
 * other load on a shared machine cancels out of the ratio; rates are per
 * CPU-second of the whole process (event loop, thread pool, V8's helper
 * threads), medians over the runs. Two ways: one call at a time (each waits
 * for the previous signature), and 8 calls in flight (twice libuv's 4 pool
 * threads), as a CA answering many registration desks runs; raw signing is
 * measured the same way in each case.
 * One holder key (RSA-2048, as on the cards) is certified again and again:
 * its key-quality check is measured separately, as prepare/issue take an
 * already checked key (the RA runs the gate once per request).
 */
import 'reflect-metadata';
import { generateKeyPairSync } from 'node:crypto';
import { buildIssuingCaCertificate, buildRootCaCertificate } from '../../libs/pki/src/ca';
import {
  ChunkedModulusProducts,
  checkKeyQuality,
  CheckedPublicKey,
  describeIssuer,
  IssuanceRequest,
  issueCertificate,
  moicaProfile,
  parseCertificationRequest,
  prepareCertificate,
} from '../../libs/pki/src/issuance';
import { buildTestCsr } from '../../libs/pki/src/issuance/testing/key-fixtures';
import { KeyAlgorithm } from '../../libs/pki/src/signing/signer';
import { SoftwareSigner } from '../../libs/pki/src/signing/software-signer';

const seconds = Number(process.argv[2] ?? 2);
const runs = Number(process.argv[3] ?? 5);
const profile = moicaProfile({ caLabel: 'bench', baseUrl: 'http://moica.example.tw', crlPartitions: 1024 });
const cap = new Date('2034-12-01T00:00:00Z');

function elapsed(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function cpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/**
 * Rates (per CPU-second) of several operations measured in alternating
 * batches: `inFlight` concurrent loops of `batch` calls each.
 */
async function rates(bodies: (() => Promise<unknown>)[], inFlight = 1, batch = 8): Promise<number[]> {
  const counts = bodies.map(() => 0);
  const cpu = bodies.map(() => 0);
  const start = process.hrtime.bigint();
  const loop = async (body: () => Promise<unknown>) => {
    for (let i = 0; i < batch; i++) await body();
  };
  while (elapsed(start) < seconds * bodies.length) {
    for (let b = 0; b < bodies.length; b++) {
      const before = cpuSeconds();
      await Promise.all(Array.from({ length: inFlight }, () => loop(bodies[b])));
      cpu[b] += cpuSeconds() - before;
      counts[b] += batch * inFlight;
    }
  }
  return counts.map((count, b) => count / cpu[b]);
}

async function rate(body: () => Promise<unknown>): Promise<number> {
  return (await rates([body]))[0];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function holderKey(): Promise<{ csrDer: Uint8Array; checked: CheckedPublicKey }> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 65537 });
  const csrDer = buildTestCsr(privateKey);
  const csr = parseCertificationRequest(csrDer);
  if (!csr.ok) throw new Error(csr.detail);
  const checked = await checkKeyQuality(csr.csr.publicKey, { isKnownPublicKey: async () => false, sharedPrimeIndex: new ChunkedModulusProducts() });
  if (!checked.ok) throw new Error(checked.detail);
  return { csrDer, checked: checked.checked };
}

async function benchCa(label: string, algorithm: KeyAlgorithm, holder: CheckedPublicKey): Promise<void> {
  const rootSigner = await SoftwareSigner.generate('bench:root', algorithm);
  const signer = await SoftwareSigner.generate('bench:issuing', algorithm);
  const notBefore = new Date('2024-01-01T00:00:00Z');
  const root = await buildRootCaCertificate({
    signer: rootSigner,
    subject: [{ type: 'C', value: 'TW' }, { type: 'CN', value: 'Bench Root' }],
    notBefore,
    notAfter: new Date('2044-01-01T00:00:00Z'),
    serialNumber: Uint8Array.of(1),
  });
  const issuing = await buildIssuingCaCertificate({
    issuer: { signer: rootSigner, certificateDer: root.der },
    subject: [{ type: 'C', value: 'TW' }, { type: 'CN', value: 'Bench Issuing CA' }],
    subjectPublicKeyInfoDer: signer.publicKeySpki,
    notBefore,
    notAfter: new Date('2043-01-01T00:00:00Z'),
    serialNumber: Uint8Array.of(2),
  });
  const issuer = describeIssuer(issuing.der);
  const request: IssuanceRequest = {
    kind: 'signature',
    publicKey: holder,
    holderName: '王小明',
    holderNumber: '0000000112831644',
    nationalIdLast4: '6789',
    notBefore: new Date('2026-12-01T00:00:00Z'),
    notAfter: new Date('2031-11-30T23:59:59Z'),
    crlPartition: 7,
  };
  const sampleTbs = prepareCertificate(request, profile, issuer, { validityCap: cap }).tbsDer;

  const issue = () => issueCertificate(prepareCertificate(request, profile, issuer, { validityCap: cap }), signer);
  const prepared: number[] = [];
  const ratios: string[] = [];
  for (const inFlight of [1, 8]) {
    const raw: number[] = [];
    const issued: number[] = [];
    for (let run = 0; run < runs; run++) {
      const [r, i] = await rates([() => signer.sign(sampleTbs), issue], inFlight);
      raw.push(r);
      issued.push(i);
    }
    const r = median(raw);
    const i = median(issued);
    ratios.push(`${inFlight} in flight: raw ${r.toFixed(0).padStart(6)}/s, issued ${i.toFixed(0).padStart(6)}/s, ratio ${(i / r).toFixed(3)}`);
  }
  for (let run = 0; run < runs; run++) prepared.push(await rate(async () => prepareCertificate(request, profile, issuer, { validityCap: cap })));
  console.log(`${label.padEnd(9)} ${ratios.join(' | ')} | prepare+lint alone ${median(prepared).toFixed(0)}/s`);
}

async function main(): Promise<void> {
  console.log(`node ${process.version}, ${seconds} s per run, median of ${runs} runs`);
  const holder = await holderKey();
  for (const [label, algorithm] of [
    ['RSA-4096', { kind: 'RSA', modulusBits: 4096 }],
    ['RSA-2048', { kind: 'RSA', modulusBits: 2048 }],
    ['P-256', { kind: 'EC', curve: 'P-256' }],
  ] as [string, KeyAlgorithm][]) {
    await benchCa(label, algorithm, holder.checked);
  }
  const parse: number[] = [];
  const gate: number[] = [];
  for (let run = 0; run < runs; run++) {
    parse.push(await rate(async () => parseCertificationRequest(holder.csrDer)));
    gate.push(
      await rate(() => checkKeyQuality(holder.checked.key, { isKnownPublicKey: async () => false, sharedPrimeIndex: new ChunkedModulusProducts() })),
    );
  }
  console.log(`PKCS#10 parse + proof of possession (RSA-2048): ${median(parse).toFixed(0)}/s`);
  console.log(`key-quality gate, RSA-2048 holder key, empty shared-prime index: ${median(gate).toFixed(0)}/s`);
}

void main();
