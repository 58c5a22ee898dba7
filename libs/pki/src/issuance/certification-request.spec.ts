import { generateKeyPairSync } from 'node:crypto';
import { OID } from '../oids';
import { derBitString, derObjectIdentifier, derSequence } from './der-writer';
import { parseCertificationRequest } from './certification-request';
import { buildTestCsr, rsaKeyFromPrimes, rsaSpki, seededBytes, spkiOf, randomPrime } from './testing/key-fixtures';

const random = seededBytes('certification-request.spec');
const rsa = rsaKeyFromPrimes(randomPrime(1024, random), randomPrime(1024, random));
const other = rsaKeyFromPrimes(randomPrime(1024, random), randomPrime(1024, random));
const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey;
const p521 = generateKeyPairSync('ec', { namedCurve: 'secp521r1' }).privateKey;
const ed25519 = generateKeyPairSync('ed25519').privateKey;
const primeForE3 = (): bigint => {
  for (;;) {
    const candidate = randomPrime(1024, random);
    if (candidate % 3n === 2n) return candidate; // gcd(p - 1, 3) = 1
  }
};
const rsaE3 = rsaKeyFromPrimes(primeForE3(), primeForE3(), 3n);
const rsa1024 = rsaKeyFromPrimes(randomPrime(512, random), randomPrime(512, random));

function toPem(der: Uint8Array): string {
  return `-----BEGIN CERTIFICATE REQUEST-----\n${Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE REQUEST-----\n`;
}

describe('parseCertificationRequest', () => {
  it.each([
    ['RSA-2048 (DER)', () => buildTestCsr(rsa), 'RSA'],
    ['RSA-2048 (PEM text)', () => toPem(buildTestCsr(rsa)), 'RSA'],
    ['RSA-2048 (PEM bytes)', () => new TextEncoder().encode(toPem(buildTestCsr(rsa))), 'RSA'],
    ['P-256', () => buildTestCsr(p256), 'EC'],
    ['P-384 signed with SHA-384', () => buildTestCsr(p384, { signatureAlgorithm: OID.ecdsaWithSHA384 }), 'EC'],
  ])('accepts %s with a valid proof of possession', (_name, make, kind) => {
    const result = parseCertificationRequest(make());
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.csr.publicKey.kind).toBe(kind);
  });

  it.each([
    ['garbage', () => Uint8Array.of(1, 2, 3), 'csr-malformed'],
    ['trailing bytes', () => Uint8Array.from([...buildTestCsr(rsa), 0]), 'csr-malformed'],
    ['a PEM without a request', () => '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----', 'csr-malformed'],
    ['a truncated request', () => buildTestCsr(rsa).subarray(0, 100), 'csr-malformed'],
    ['version 1', () => buildTestCsr(rsa, { version: 1 }), 'csr-version-unsupported'],
    ['an empty signature', () => buildTestCsr(rsa, { signature: new Uint8Array(0) }), 'csr-unsigned'],
    ['SHA-1', () => buildTestCsr(rsa, { signatureAlgorithm: '1.2.840.113549.1.1.5' }), 'csr-signature-algorithm-not-allowed'],
    ['an ECDSA algorithm on an RSA key', () => buildTestCsr(rsa, { signatureAlgorithm: OID.ecdsaWithSHA256 }), 'csr-signature-algorithm-not-allowed'],
    ['a flipped signature bit', () => buildTestCsr(rsa, { tamper: true }), 'csr-signature-invalid'],
    ['another key (no proof of possession)', () => buildTestCsr(other, { spki: spkiOf(rsa) }), 'csr-signature-invalid'],
    ['e = 3', () => buildTestCsr(rsaE3), 'key-exponent-not-allowed'],
    ['RSA-1024', () => buildTestCsr(rsa1024), 'key-size-not-allowed'],
    ['P-521', () => buildTestCsr(p521, { signatureAlgorithm: OID.ecdsaWithSHA512 }), 'key-algorithm-not-allowed'],
    ['Ed25519', () => buildTestCsr(rsa, { spki: spkiOf(ed25519) }), 'key-algorithm-not-allowed'],
    ['an RSA key without NULL parameters', () => buildTestCsr(rsa, { spki: rsaWithoutNull() }), 'key-malformed'],
    ['a P-256 point off the curve', () => buildTestCsr(p256, { spki: offCurve() }), 'key-point-invalid'],
  ])('refuses %s', (_name, make, code) => {
    expect(parseCertificationRequest(make())).toMatchObject({ ok: false, code });
  });

  it('keeps the requested extensions aside, never as certificate content', () => {
    const result = parseCertificationRequest(buildTestCsr(rsa));
    expect(result.ok && result.csr.requestedExtensionsDer).toBeFalsy();
  });
});

function rsaWithoutNull(): Uint8Array {
  const spki = rsaSpki(5n, 65537n);
  // SEQUENCE { SEQUENCE { rsaEncryption } , BIT STRING }: parameters absent
  return derSequence(derSequence(derObjectIdentifier(OID.rsaEncryption)), derBitString(spki.subarray(spki.length - 9)));
}

function offCurve(): Uint8Array {
  const spki = spkiOf(p256).slice();
  spki[spki.length - 1] ^= 1; // y + 1 is not on the curve for the same x
  return spki;
}
