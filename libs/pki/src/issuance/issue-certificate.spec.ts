import { OID } from '../oids';
import { SoftwareSigner } from '../signing/software-signer';
import { lintCertificate } from './certificate-lint';
import { moicaProfile } from './certificate-profile';
import { parseCertificationRequest } from './certification-request';
import { CertificateLintError, IssuanceError } from './issuance-error';
import { IssuanceRequest } from './issuance-request';
import { issueCertificate } from './issue-certificate';
import { checkRenewalKeyQuality, checkKeyQuality } from './key-quality';
import { prepareCertificate } from './prepare-certificate';
import { renewalRequest } from './renewal';
import { ChunkedModulusProducts } from './shared-prime-index';
import { buildTbsCertificate } from './tbs-certificate';
import { readCertificate } from './tbs-certificate-reader';
import { makeTestChain, TestChain } from './testing/issuer-fixture';
import { buildTestCsr, randomPrime, rsaKeyFromPrimes, seededBytes } from './testing/key-fixtures';
import { generateSerialNumber } from './serial-number';
import { derUnsignedInteger } from './der-writer';

const profile = moicaProfile({ caLabel: 'moica-test', baseUrl: 'http://moica.example.tw', crlPartitions: 64 });
const random = seededBytes('issue-certificate.spec');
const holderKey = rsaKeyFromPrimes(randomPrime(1024, random), randomPrime(1024, random));
const cap = new Date('2034-12-01T00:00:00Z');

let chain: TestChain;
beforeAll(async () => {
  chain = await makeTestChain();
});

async function request(overrides: Partial<IssuanceRequest> = {}): Promise<IssuanceRequest> {
  const csr = parseCertificationRequest(buildTestCsr(holderKey));
  if (!csr.ok) throw new Error(csr.detail);
  const checked = await checkKeyQuality(csr.csr.publicKey, { isKnownPublicKey: async () => false, sharedPrimeIndex: new ChunkedModulusProducts() });
  if (!checked.ok) throw new Error(checked.detail);
  return {
    kind: 'signature',
    publicKey: checked.checked,
    holderName: '王小明',
    holderNumber: '0000000112831644',
    nationalIdLast4: '6789',
    notBefore: new Date('2026-12-01T00:00:00Z'),
    notAfter: new Date('2031-11-30T23:59:59Z'),
    crlPartition: 7,
    ...overrides,
  };
}

describe('generateSerialNumber', () => {
  it.each([
    ['top bit set', 0xff, 17],
    ['top bit clear', 0x7f, 16],
  ])('keeps 128 bits, positive, with %s', (_name, first, contentOctets) => {
    const serial = generateSerialNumber((size) => Uint8Array.from({ length: size }, (_, i) => (i === 0 ? first : 0x11)));
    expect(serial.der[0]).toBe(0x02);
    expect(serial.der[1]).toBe(contentOctets);
    expect(serial.der[2] & 0x80).toBe(0);
    expect(serial.value > 0n).toBe(true);
  });

  it.each([
    ['leading zero octets', [0, 0, 0x0a, 0x00, 0x01], '0a0001'],
    ['a leading octet below 16', [0x01, 0x00, 0xff], '0100ff'],
    ['zeros inside', [0x80, 0x00, 0x00, 0x00], '80000000'],
  ])('shows the serial in hex without leading zeros, with %s', (_name, prefix, hexPrefix) => {
    const bytes = Uint8Array.from({ length: 16 }, (_, i) => prefix[i] ?? 0x22);
    const serial = generateSerialNumber(() => bytes.slice());
    const expectedHex = (hexPrefix + '22'.repeat(16 - prefix.length)).replace(/^0+/, '');
    expect(serial.hex).toBe(expectedHex);
    expect(serial.value).toBe(BigInt('0x' + expectedHex));
    expect(Buffer.from(serial.der.subarray(2)).toString('hex').replace(/^0+/, '')).toBe(expectedHex);
  });

  it('agrees with the general INTEGER encoder and bigint arithmetic on 2,000 draws, leading zero octets included', () => {
    const draw = seededBytes('serial draws');
    for (let round = 0; round < 2000; round++) {
      const bytes = draw(16);
      bytes.fill(0, 0, round % 5); // 0 to 4 leading zero octets
      const serial = generateSerialNumber(() => bytes.slice());
      const value = BigInt('0x' + Buffer.from(bytes).toString('hex'));
      expect([round, serial.value, serial.hex, Buffer.from(serial.der).toString('hex')]).toEqual([round, value, value.toString(16), Buffer.from(derUnsignedInteger(bytes)).toString('hex')]);
    }
  });

  it('draws again on zero, and refuses a stuck source', () => {
    let calls = 0;
    const serial = generateSerialNumber((size) => (calls++ === 0 ? new Uint8Array(size) : new Uint8Array(size).fill(1)));
    expect(serial.value).toBeGreaterThan(0n);
    expect(() => generateSerialNumber((size) => new Uint8Array(size))).toThrow(/zero/);
  });
});

describe('prepareCertificate + issueCertificate', () => {
  it('issues a certificate whose TBS is the linted one, verifiable under the issuer key', async () => {
    const prepared = prepareCertificate(await request(), profile, chain.issuer, { validityCap: cap, randomBytes: random });
    expect(prepared.lint).toEqual({ ok: true, failures: [] });
    const issued = await issueCertificate(prepared, chain.issuingSigner);
    const fields = readCertificate(issued.der);
    expect(Buffer.from(fields.tbsDer).equals(Buffer.from(prepared.tbsDer))).toBe(true);
    expect(fields.serialNumber).toBe(prepared.serial.value);
    expect(issued.pem).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
  });

  it('signs each prepared certificate once', async () => {
    const prepared = prepareCertificate(await request(), profile, chain.issuer, { validityCap: cap });
    await issueCertificate(prepared, chain.issuingSigner);
    await expect(issueCertificate(prepared, chain.issuingSigner)).rejects.toMatchObject({ code: 'already-issued' });
  });

  it('refuses TBS bytes changed after the lint, an object it did not prepare, and another key', async () => {
    const prepared = prepareCertificate(await request(), profile, chain.issuer, { validityCap: cap });
    await expect(issueCertificate({ ...prepared }, chain.issuingSigner)).rejects.toMatchObject({ code: 'not-prepared' });
    await expect(issueCertificate(prepared, chain.rootSigner)).rejects.toMatchObject({ code: 'signer-mismatch' });
    prepared.tbsDer[prepared.tbsDer.length - 1] ^= 1;
    await expect(issueCertificate(prepared, chain.issuingSigner)).rejects.toMatchObject({ code: 'tbs-modified' });
  });

  it('verifies the signature of a signer that does not check its own, and refuses one that does not verify', async () => {
    const prepared = prepareCertificate(await request(), profile, chain.issuer, { validityCap: cap });
    const faulty = Object.create(chain.issuingSigner, { checksItsSignatures: { value: false } }) as SoftwareSigner;
    faulty.sign = async (data: Uint8Array) => {
      const signature = await chain.issuingSigner.sign(data);
      signature[10] ^= 1;
      return signature;
    };
    await expect(issueCertificate(prepared, faulty)).rejects.toMatchObject({ code: 'signature-invalid' });
  });

  const late = new Date('2050-01-01T00:00:00Z');
  it.each<[string, Partial<IssuanceRequest>, string, Date?]>([
    ['notAfter past the 8-year cap', { notAfter: new Date('2034-12-01T00:00:01Z') }, 'validity-exceeds-cap'],
    ['notAfter past the issuer', { notAfter: new Date('2043-06-01T00:00:00Z') }, 'validity-exceeds-issuer', late],
    ['notBefore after notAfter', { notBefore: new Date('2032-01-01T00:00:00Z') }, 'validity-invalid'],
    ['milliseconds', { notBefore: new Date('2026-12-01T00:00:00.500Z') }, 'validity-invalid'],
    ['a 15-digit holder number', { holderNumber: '000000011283164' }, 'holder-number-invalid'],
    ['a full national ID as the excerpt', { nationalIdLast4: 'A123456789' }, 'national-id-excerpt-invalid'],
    ['an empty name', { holderName: ' ' }, 'holder-name-invalid'],
    ['a 65-character name', { holderName: '王'.repeat(65) }, 'holder-name-invalid'],
    ['a non-ASCII e-mail', { email: '王@example.tw' }, 'email-invalid'],
    ['partition 64 of 64', { crlPartition: 64 }, 'crl-partition-invalid'],
    ['a renewal key on a new certificate', {}, 'key-check-mismatch'],
  ])('refuses %s before building anything', async (name, overrides, code, validityCap = cap) => {
    const base = await request(overrides);
    const input = name.startsWith('a renewal key') ? { ...base, publicKey: renewalKey(base) } : base;
    expect(() => prepareCertificate(input, profile, chain.issuer, { validityCap })).toThrow(expect.objectContaining({ code }));
  });

  it('refuses an unchecked key', async () => {
    const base = await request();
    expect(() => prepareCertificate({ ...base, publicKey: { ...base.publicKey } }, profile, chain.issuer, { validityCap: cap })).toThrow(
      expect.objectContaining({ code: 'key-not-checked' }),
    );
  });

  it('the lint refuses a national ID in the name, and nothing is signed', async () => {
    let error: unknown;
    try {
      prepareCertificate(await request({ holderName: '王A123456789' }), profile, chain.issuer, { validityCap: cap });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CertificateLintError);
    expect((error as CertificateLintError).failures).toEqual([expect.objectContaining({ rule: 'no-national-id' })]);
    expect(error).toBeInstanceOf(IssuanceError);
  });

  it('the lint reports every broken rule of a TBS built against another profile', async () => {
    const req = await request({ email: 'wang@example.tw' });
    const other = { ...profile, policyOids: ['1.2.3.4'], keyUsage: { ...profile.keyUsage, signature: { RSA: ['digitalSignature'], EC: ['digitalSignature'] } } } as typeof profile;
    const tbs = buildTbsCertificate(req, other, chain.issuer, generateSerialNumber(random));
    const result = lintCertificate(tbs, { profile, issuer: chain.issuer, kind: 'signature', validityCap: new Date('2030-01-01T00:00:00Z'), crlPartition: 8, emailRequested: false });
    expect(result.failures.map((failure) => failure.rule).sort()).toEqual(
      ['certificate-policies', 'crl-distribution-points', 'extensions-allowed', 'freshest-crl', 'key-usage', 'validity-within-cap'].sort(),
    );
  });

  it('uses keyAgreement for an EC encryption certificate (RFC 5480 §3)', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const ec = parseCertificationRequest(buildTestCsr(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey));
    if (!ec.ok) throw new Error(ec.detail);
    const checked = await checkKeyQuality(ec.csr.publicKey, { isKnownPublicKey: async () => false, sharedPrimeIndex: new ChunkedModulusProducts() });
    if (!checked.ok) throw new Error(checked.detail);
    const prepared = prepareCertificate(await request({ kind: 'encryption', publicKey: checked.checked }), profile, chain.issuer, { validityCap: cap });
    const keyUsage = readCertificate(await issueCertificate(prepared, chain.issuingSigner).then((c) => c.der)).extensions.find((e) => e.oid === OID.keyUsage)!;
    expect(Buffer.from(keyUsage.value).toString('hex')).toBe('03020308'); // keyAgreement only
    expect(keyUsage.critical).toBe(true);
  });

  it('renews: same key and holder, new validity', async () => {
    const first = await issueCertificate(
      prepareCertificate(await request({ email: 'wang@example.tw' }), profile, chain.issuer, { validityCap: cap }),
      chain.issuingSigner,
    );
    const previous = readCertificate(first.der);
    const { parseSubjectPublicKeyInfo } = await import('./public-key');
    const key = parseSubjectPublicKeyInfo(previous.subjectPublicKeyInfoDer);
    if (!key.ok) throw new Error(key.detail);
    const checked = checkRenewalKeyQuality(key.key);
    if (!checked.ok) throw new Error(checked.detail);
    const renewed = renewalRequest(first.der, checked.checked, {
      notBefore: new Date('2031-11-01T00:00:00Z'),
      notAfter: new Date('2034-12-01T00:00:00Z'),
      crlPartition: 9,
    });
    expect(renewed).toMatchObject({ kind: 'signature', holderName: '王小明', holderNumber: '0000000112831644', nationalIdLast4: '6789', email: 'wang@example.tw' });
    const second = readCertificate((await issueCertificate(prepareCertificate(renewed, profile, chain.issuer, { validityCap: cap }), chain.issuingSigner)).der);
    expect(Buffer.from(second.subjectPublicKeyInfoDer).equals(Buffer.from(previous.subjectPublicKeyInfoDer))).toBe(true);
    expect(Buffer.from(second.subjectDer).equals(Buffer.from(previous.subjectDer))).toBe(true);
    expect(second.notAfter.toISOString()).toBe('2034-12-01T00:00:00.000Z');

    // A certificate this CA key did not sign cannot be renewed (the renewal skips the shared-prime check).
    const otherChain = await makeTestChain();
    expect(() => prepareCertificate(renewed, profile, otherChain.issuer, { validityCap: cap })).toThrow(expect.objectContaining({ code: 'renewal-mismatch' }));
  });
});

function renewalKey(base: IssuanceRequest) {
  const checked = checkRenewalKeyQuality(base.publicKey.key);
  if (!checked.ok) throw new Error(checked.detail);
  return checked.checked;
}
