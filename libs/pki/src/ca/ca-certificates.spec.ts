import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithTools } from '../../../../test/support/system-tool';
import { OID } from '../oids';
import { Pkcs11Token } from '../signing/pkcs11-signer';
import { KeyAlgorithm, Signer } from '../signing/signer';
import { SoftwareSigner } from '../signing/software-signer';
import { createSoftHsmTestToken, SoftHsmTestToken } from '../signing/testing/softhsm-test-token';
import { isSignedBy, parseCertificate } from './ca-certificate';
import { acceptParentIssuedCertificate, buildCaCertificateRequest } from './ca-certificate-request';
import { keyUsageExtension } from './extensions';
import { buildIssuingCaCertificate } from './issuing-ca-certificate';
import { CaDistinguishedName } from './name';
import { buildOcspSignerCertificate } from './ocsp-signer-certificate';
import { buildRootCaCertificate } from './root-ca-certificate';
import { randomSerialNumber, serialNumberFromMagnitude, serialNumberHex } from './serial-number';
import { derToPem, encodeCertificateTime, SignedCertificate } from './tbs-certificate';

// Fixed dates (STYLE.md rule 5); openssl checks at AT with -attime.
const ROOT_FROM = new Date('2026-01-01T00:00:00Z');
const ROOT_UNTIL = new Date('2046-01-01T00:00:00Z');
const ISSUING_FROM = new Date('2026-01-02T00:00:00Z');
const ISSUING_UNTIL = new Date('2036-01-01T00:00:00Z');
const OCSP_FROM = new Date('2026-02-25T00:00:00Z');
const OCSP_UNTIL = new Date('2026-03-27T00:00:00Z');
const AT = new Date('2026-03-01T00:00:00Z');
const AT_EPOCH = String(AT.getTime() / 1000);

const ROOT_NAME: CaDistinguishedName = [
  { type: 'C', value: 'TW' },
  { type: 'O', value: 'Test Government' },
  { type: 'CN', value: 'Test Root CA' },
];
const ISSUING_NAME: CaDistinguishedName = [
  { type: 'C', value: 'TW' },
  { type: 'O', value: '內政部' },
  { type: 'CN', value: '內政部憑證管理中心' },
];
const OCSP_NAME: CaDistinguishedName = [
  { type: 'C', value: 'TW' },
  { type: 'CN', value: 'MOICA OCSP Responder 1' },
];

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** Runs a real client; a failure shows its output. */
function run(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
  }
  return `${result.stdout}${result.stderr}`;
}

interface Chain {
  root: SignedCertificate;
  issuing: SignedCertificate;
  ocsp: SignedCertificate;
  issuingSigner: Signer;
}

async function buildChain(rootSigner: Signer, issuingSigner: Signer, ocspSigner: Signer): Promise<Chain> {
  const root = await buildRootCaCertificate({
    signer: rootSigner,
    subject: ROOT_NAME,
    notBefore: ROOT_FROM,
    notAfter: ROOT_UNTIL,
    serialNumber: randomSerialNumber(),
  });
  const issuing = await buildIssuingCaCertificate({
    issuer: { signer: rootSigner, certificateDer: root.der },
    subject: ISSUING_NAME,
    subjectPublicKeyInfoDer: issuingSigner.publicKeySpki,
    notBefore: ISSUING_FROM,
    notAfter: ISSUING_UNTIL,
    serialNumber: randomSerialNumber(),
    crlDistributionPointUrls: ['http://crl.example.gov.tw/root.crl'],
    authorityInfoAccess: { caIssuersUrls: ['http://repository.example.gov.tw/root.cer'] },
    certificatePolicyOids: [OID.gpkiClass3Assurance],
  });
  const ocsp = await buildOcspSignerCertificate({
    issuer: { signer: issuingSigner, certificateDer: issuing.der },
    subject: OCSP_NAME,
    subjectPublicKeyInfoDer: ocspSigner.publicKeySpki,
    notBefore: OCSP_FROM,
    notAfter: OCSP_UNTIL,
    serialNumber: randomSerialNumber(),
  });
  return { root, issuing, ocsp, issuingSigner };
}

/** What openssl and certtool must say about a chain, whatever the keys. */
function expectRealClientsAccept(directory: string, name: string, chain: Chain): void {
  const file = (suffix: string) => join(directory, `${name}-${suffix}.pem`);
  writeFileSync(file('root'), chain.root.pem);
  writeFileSync(file('issuing'), chain.issuing.pem);
  writeFileSync(file('ocsp'), chain.ocsp.pem);

  expect(run('openssl', ['verify', '-x509_strict', '-attime', AT_EPOCH, '-CAfile', file('root'), file('issuing')])).toContain(
    `${file('issuing')}: OK`,
  );
  expect(
    run('openssl', [
      'verify',
      '-x509_strict',
      '-attime',
      AT_EPOCH,
      '-purpose',
      'ocsphelper',
      '-CAfile',
      file('root'),
      '-untrusted',
      file('issuing'),
      file('ocsp'),
    ]),
  ).toContain(`${file('ocsp')}: OK`);

  const rootText = run('openssl', ['x509', '-text', '-noout', '-in', file('root')]);
  expect(rootText).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE\n/);
  expect(rootText).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign\n/);
  expect(rootText).toContain('X509v3 Subject Key Identifier');
  expect(rootText).not.toContain('X509v3 Authority Key Identifier');

  const issuingText = run('openssl', ['x509', '-text', '-noout', '-nameopt', 'utf8,sep_comma_plus_space', '-in', file('issuing')]);
  expect(issuingText).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0\n/);
  expect(issuingText).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign\n/);
  expect(issuingText).toContain('Subject: C=TW, O=內政部, CN=內政部憑證管理中心');
  expect(issuingText).toContain('URI:http://crl.example.gov.tw/root.crl');
  expect(issuingText).toContain('CA Issuers - URI:http://repository.example.gov.tw/root.cer');
  expect(issuingText).toContain('Policy: 2.16.886.101.0.3.3');
  const rootSki = /Subject Key Identifier:\s+([0-9A-F:]+)/.exec(rootText)?.[1];
  expect(rootSki).toBeDefined();
  expect(issuingText).toMatch(new RegExp(`Authority Key Identifier:\\s+(keyid:)?${rootSki}`));

  const ocspText = run('openssl', ['x509', '-text', '-noout', '-in', file('ocsp')]);
  expect(ocspText).toMatch(/X509v3 Key Usage: critical\s+Digital Signature\n/);
  expect(ocspText).toMatch(/X509v3 Extended Key Usage:\s+OCSP Signing\n/);
  expect(ocspText).toContain('OCSP No Check');
  expect(ocspText).not.toContain('Basic Constraints');
  expect(ocspText).toContain('Not Before: Feb 25 00:00:00 2026 GMT');
  expect(ocspText).toContain('Not After : Mar 27 00:00:00 2026 GMT');

  const issuingCerttool = run('certtool', ['-i', '--infile', file('issuing')]);
  expect(issuingCerttool).toMatch(/Basic Constraints \(critical\):\s+Certificate Authority \(CA\): TRUE\s+Path Length Constraint: 0/);
  expect(issuingCerttool).toMatch(/Key Usage \(critical\):\s+Certificate signing\.\s+CRL signing\./);
  expect(issuingCerttool).toContain('Authority Key Identifier (not critical)');
  const ocspCerttool = run('certtool', ['-i', '--infile', file('ocsp')]);
  expect(ocspCerttool).toMatch(/Key Purpose \(not critical\):\s+OCSP signing\./);
  expect(ocspCerttool).toContain('1.3.6.1.5.5.7.48.1.5');
}

describe('parseCertificate', () => {
  it('rejects bytes that are not a certificate', () => {
    expect(() => parseCertificate(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x01))).toThrow(
      'certificate "(unparsable)" rejected: not a DER X.509 certificate',
    );
  });
});

describe('CA certificate encodings', () => {
  it.each([
    [['keyCertSign', 'cRLSign'] as const, '03020106'],
    [['digitalSignature'] as const, '03020780'],
    [['digitalSignature', 'nonRepudiation'] as const, '030206c0'],
    [['keyEncipherment', 'dataEncipherment'] as const, '03020430'],
    [['decipherOnly'] as const, '0303070080'],
  ])('keyUsage %j is the DER named bit list %s (X.690 §11.2.2)', (usages, expected) => {
    expect(hex(keyUsageExtension(usages).valueDer)).toBe(expected);
  });

  it.each([
    ['2049-12-31T23:59:59.999Z', '17' + '0d' + Buffer.from('491231235959Z').toString('hex')],
    ['2050-01-01T00:00:00Z', '18' + '0f' + Buffer.from('20500101000000Z').toString('hex')],
    ['1999-07-08T09:10:11Z', '17' + '0d' + Buffer.from('990708091011Z').toString('hex')],
  ])('time %s (RFC 5280 §4.1.2.5)', (iso, expected) => {
    expect(hex(encodeCertificateTime(new Date(iso)))).toBe(expected);
  });

  it.each([
    ['ff' + '00'.repeat(15), '00ff' + '00'.repeat(15)],
    ['00' + '7f'.repeat(15), '7f'.repeat(15)],
    ['0000' + '80'.repeat(14), '00' + '80'.repeat(14)],
  ])('serial number from 128 random bits %s is positive and minimal', (magnitude, expected) => {
    expect(hex(serialNumberFromMagnitude(Buffer.from(magnitude, 'hex')))).toBe(expected);
  });

  it('draws 128-bit serial numbers that are positive and at most 17 octets', () => {
    const serials = Array.from({ length: 200 }, () => randomSerialNumber());
    for (const serial of serials) {
      expect(serial.length).toBeGreaterThanOrEqual(1);
      expect(serial.length).toBeLessThanOrEqual(17);
      expect(serial[0] & 0x80).toBe(0);
    }
    expect(new Set(serials.map(serialNumberHex)).size).toBe(200);
    expect(serials.some((serial) => serial.length === 17)).toBe(true);
  });
});

describeWithTools(['openssl', 'certtool'], 'CA certificates with software keys', () => {
  let directory: string;
  const keys = new Map<string, SoftwareSigner>();
  const key = async (name: string, algorithm: KeyAlgorithm) => {
    if (!keys.has(name)) keys.set(name, await SoftwareSigner.generate(`software:${name}`, algorithm));
    return keys.get(name) as SoftwareSigner;
  };

  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'moica-ca-'));
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it.each<[string, KeyAlgorithm, KeyAlgorithm]>([
    ['rsa2048-rsa2048', { kind: 'RSA', modulusBits: 2048 }, { kind: 'RSA', modulusBits: 2048 }],
    ['p384-p256', { kind: 'EC', curve: 'P-384' }, { kind: 'EC', curve: 'P-256' }],
  ])('root -> issuing CA -> OCSP signer (%s) is accepted by openssl and certtool', async (name, rootKey, issuingKey) => {
    const chain = await buildChain(
      await key(`${name}-root`, rootKey),
      await key(`${name}-issuing`, issuingKey),
      await key('ocsp', { kind: 'EC', curve: 'P-256' }),
    );
    expectRealClientsAccept(directory, `software-${name}`, chain);
    expect(parseCertificate(chain.issuing.der).serialNumberHex).toBe(chain.issuing.serialNumberHex);
  });

  it('openssl rejects the chain when one bit of the issuing CA signature changes', async () => {
    const chain = await buildChain(
      await key('p384-p256-root', { kind: 'EC', curve: 'P-384' }),
      await key('p384-p256-issuing', { kind: 'EC', curve: 'P-256' }),
      await key('ocsp', { kind: 'EC', curve: 'P-256' }),
    );
    const tampered = new Uint8Array(chain.issuing.der);
    tampered[tampered.length - 3] ^= 0x01;
    expect(isSignedBy(chain.issuing.der, parseCertificate(chain.root.der).subjectPublicKeyInfoDer)).toBe(true);
    expect(isSignedBy(tampered, parseCertificate(chain.root.der).subjectPublicKeyInfoDer)).toBe(false);
    writeFileSync(join(directory, 'tampered-root.pem'), chain.root.pem);
    writeFileSync(join(directory, 'tampered.pem'), derToPem(tampered, 'CERTIFICATE'));
    const result = spawnSync('openssl', ['verify', '-attime', AT_EPOCH, '-CAfile', join(directory, 'tampered-root.pem'), join(directory, 'tampered.pem')], { encoding: 'utf8' });
    expect(result.status).not.toBe(0);
    expect(`${result.stdout}${result.stderr}`).toMatch(/certificate signature failure/);
  });

  it('refuses an issuing CA certificate that outlives its root', async () => {
    const rootSigner = await key('rsa2048-rsa2048-root', { kind: 'RSA', modulusBits: 2048 });
    const root = await buildRootCaCertificate({
      signer: rootSigner,
      subject: ROOT_NAME,
      notBefore: ROOT_FROM,
      notAfter: ISSUING_FROM,
      serialNumber: randomSerialNumber(),
    });
    await expect(
      buildIssuingCaCertificate({
        issuer: { signer: rootSigner, certificateDer: root.der },
        subject: ISSUING_NAME,
        subjectPublicKeyInfoDer: rootSigner.publicKeySpki,
        notBefore: ROOT_FROM,
        notAfter: ROOT_UNTIL,
        serialNumber: randomSerialNumber(),
      }),
    ).rejects.toThrow(/after its issuer expires/);
  });

  it('refuses to sign with a key that is not the issuer certificate key', async () => {
    const chain = await buildChain(
      await key('rsa2048-rsa2048-root', { kind: 'RSA', modulusBits: 2048 }),
      await key('rsa2048-rsa2048-issuing', { kind: 'RSA', modulusBits: 2048 }),
      await key('ocsp', { kind: 'EC', curve: 'P-256' }),
    );
    await expect(
      buildOcspSignerCertificate({
        issuer: { signer: await key('ocsp', { kind: 'EC', curve: 'P-256' }), certificateDer: chain.issuing.der },
        subject: OCSP_NAME,
        subjectPublicKeyInfoDer: chain.issuingSigner.publicKeySpki,
        notBefore: OCSP_FROM,
        notAfter: OCSP_UNTIL,
        serialNumber: randomSerialNumber(),
      }),
    ).rejects.toThrow(/the key software:ocsp is not this certificate's key/);
  });

  it.each([
    ['an OCSP signer valid for 91 days', 'ocsp-long'],
    ['a CA below the pathLen 0 issuing CA', 'sub-ca'],
  ])('refuses %s', async (_name, kind) => {
    const chain = await buildChain(
      await key('p384-p256-root', { kind: 'EC', curve: 'P-384' }),
      await key('p384-p256-issuing', { kind: 'EC', curve: 'P-256' }),
      await key('ocsp', { kind: 'EC', curve: 'P-256' }),
    );
    const issuer = { signer: chain.issuingSigner, certificateDer: chain.issuing.der };
    const common = { issuer, subject: OCSP_NAME, serialNumber: randomSerialNumber() };
    const spki = (await key('ocsp', { kind: 'EC', curve: 'P-256' })).publicKeySpki;
    if (kind === 'ocsp-long') {
      await expect(
        buildOcspSignerCertificate({
          ...common,
          subjectPublicKeyInfoDer: spki,
          notBefore: OCSP_FROM,
          notAfter: new Date('2026-05-27T00:00:00Z'),
        }),
      ).rejects.toThrow(/longer than 90 days/);
    } else {
      await expect(
        buildIssuingCaCertificate({ ...common, subjectPublicKeyInfoDer: spki, notBefore: OCSP_FROM, notAfter: OCSP_UNTIL }),
      ).rejects.toThrow(/pathLenConstraint 0 does not allow a CA below it/);
    }
  });
});

describeWithTools(['openssl', 'certtool'], 'an issuing CA certified by an external parent (openssl as the parent)', () => {
  let directory: string;
  let parentSigner: SoftwareSigner;
  let parent: SignedCertificate;
  let issuingSigner: SoftwareSigner;
  let csrFile: string;
  const passphrase = 'parent-passphrase';

  const file = (name: string) => join(directory, name);
  /** The external parent signs the request with `openssl x509 -req` and the given extensions. */
  const parentSigns = (extensions: string, requestFile = csrFile): Uint8Array => {
    writeFileSync(file('ext.cnf'), `[ext]\n${extensions}\n`);
    run('openssl', [
      'x509', '-req', '-in', requestFile, '-CA', file('parent.pem'), '-CAkey', file('parent.key'),
      '-passin', `pass:${passphrase}`, '-set_serial', '0x' + serialNumberHex(randomSerialNumber()),
      '-days', '365', '-sha256', '-extfile', file('ext.cnf'), '-extensions', 'ext', '-outform', 'DER', '-out', file('issued.der'),
    ]);
    return new Uint8Array(readFileSync(file('issued.der')));
  };
  const nowFor = (der: Uint8Array) => new Date(parseCertificate(der).notBefore.getTime() + 60_000);

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'moica-parent-'));
    parentSigner = await SoftwareSigner.generate('software:parent', { kind: 'EC', curve: 'P-384' });
    parent = await buildRootCaCertificate({
      signer: parentSigner,
      subject: [{ type: 'C', value: 'TW' }, { type: 'CN', value: 'External GRCA' }],
      notBefore: new Date('2020-01-01T00:00:00Z'),
      notAfter: new Date('2049-01-01T00:00:00Z'),
      serialNumber: randomSerialNumber(),
    });
    writeFileSync(file('parent.pem'), parent.pem);
    writeFileSync(file('parent.key'), parentSigner.exportEncryptedPem(passphrase));
    issuingSigner = await SoftwareSigner.generate('software:issuing', { kind: 'RSA', modulusBits: 2048 });
    const csr = await buildCaCertificateRequest({ signer: issuingSigner, subject: ISSUING_NAME });
    csrFile = file('issuing.csr');
    writeFileSync(csrFile, csr.pem);
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('writes a PKCS#10 request that openssl verifies and reads', () => {
    const text = run('openssl', ['req', '-in', csrFile, '-verify', '-noout', '-text', '-nameopt', 'utf8,sep_comma_plus_space']);
    expect(text).toMatch(/verify OK/);
    expect(text).toContain('Subject: C=TW, O=內政部, CN=內政部憑證管理中心');
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
    expect(text).toContain('sha256WithRSAEncryption');
  });

  it("accepts the parent's CA certificate for this key, and the chain verifies", async () => {
    const issued = parentSigns(
      'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid',
    );
    const now = nowFor(issued);
    const accepted = acceptParentIssuedCertificate({
      certificateDer: issued,
      signer: issuingSigner,
      parentCertificateDer: parent.der,
      now,
    });
    expect(accepted.isCa).toBe(true);
    // The imported issuing CA now certifies its OCSP responder; openssl follows the whole chain.
    const ocspKey = await SoftwareSigner.generate('software:ocsp', { kind: 'EC', curve: 'P-256' });
    const ocsp = await buildOcspSignerCertificate({
      issuer: { signer: issuingSigner, certificateDer: issued },
      subject: OCSP_NAME,
      subjectPublicKeyInfoDer: ocspKey.publicKeySpki,
      notBefore: now,
      notAfter: new Date(now.getTime() + 7 * 24 * 3600 * 1000),
      serialNumber: randomSerialNumber(),
    });
    writeFileSync(file('issued.pem'), run('openssl', ['x509', '-inform', 'DER', '-in', file('issued.der')]));
    writeFileSync(file('ocsp.pem'), ocsp.pem);
    expect(isSignedBy(ocsp.der, accepted.subjectPublicKeyInfoDer)).toBe(true);
    expect(
      run('openssl', ['verify', '-x509_strict', '-attime', String(Math.floor(now.getTime() / 1000) + 60), '-CAfile', file('parent.pem'),
        '-untrusted', file('issued.pem'), file('ocsp.pem')]),
    ).toContain(': OK');
  });

  it.each([
    ['a certificate that is not a CA', 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature', /basicConstraints cA is not true/],
    ['a CA certificate without cRLSign', 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign', /keyUsage lacks cRLSign/],
  ])('rejects %s', (_name, extensions, message) => {
    const issued = parentSigns(extensions);
    expect(() =>
      acceptParentIssuedCertificate({ certificateDer: issued, signer: issuingSigner, parentCertificateDer: parent.der, now: nowFor(issued) }),
    ).toThrow(message);
  });

  it('rejects a certificate for another key', async () => {
    const otherKey = await SoftwareSigner.generate('software:other', { kind: 'EC', curve: 'P-256' });
    const issued = parentSigns('basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign');
    expect(() =>
      acceptParentIssuedCertificate({ certificateDer: issued, signer: otherKey, parentCertificateDer: parent.der, now: nowFor(issued) }),
    ).toThrow(/certifies another key than software:other/);
  });

  it('rejects a certificate that the named parent did not sign', async () => {
    const issued = parentSigns('basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign');
    const impostorKey = await SoftwareSigner.generate('software:impostor', { kind: 'EC', curve: 'P-384' });
    const impostor = await buildRootCaCertificate({
      signer: impostorKey,
      subject: [{ type: 'C', value: 'TW' }, { type: 'CN', value: 'External GRCA' }],
      notBefore: new Date('2020-01-01T00:00:00Z'),
      notAfter: new Date('2049-01-01T00:00:00Z'),
      serialNumber: randomSerialNumber(),
    });
    expect(() =>
      acceptParentIssuedCertificate({ certificateDer: issued, signer: issuingSigner, parentCertificateDer: impostor.der, now: nowFor(issued) }),
    ).toThrow(/signature does not verify with the key of/);
  });

  it('rejects the certificate before its validity starts', () => {
    const issued = parentSigns('basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign');
    expect(() =>
      acceptParentIssuedCertificate({ certificateDer: issued, signer: issuingSigner, now: new Date('2020-01-01T00:00:00Z') }),
    ).toThrow(/not valid before/);
  });
});

describeWithTools(['openssl', 'certtool', 'softhsm2-util'], 'CA certificates with keys in SoftHSM2', () => {
  let directory: string;
  let testToken: SoftHsmTestToken;
  let token: Pkcs11Token;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'moica-ca-hsm-'));
    // eslint-disable-next-line no-restricted-syntax -- softhsm2-util runs with the test process's PATH
    testToken = await createSoftHsmTestToken(process.env, 'moica-ca-test');
    token = await Pkcs11Token.open({ modulePath: testToken.modulePath, tokenLabel: testToken.tokenLabel, pin: testToken.pin });
  });
  afterAll(async () => {
    await token?.close();
    testToken?.remove();
    rmSync(directory, { recursive: true, force: true });
  });

  it.each<[string, KeyAlgorithm, KeyAlgorithm]>([
    ['rsa2048-p256', { kind: 'RSA', modulusBits: 2048 }, { kind: 'EC', curve: 'P-256' }],
    ['p256-rsa2048', { kind: 'EC', curve: 'P-256' }, { kind: 'RSA', modulusBits: 2048 }],
    // MOICA's newest issuing CA generation is RSA-4096 (DOMAIN.md); the one RSA-4096 key of the suite.
    ['p384-rsa4096', { kind: 'EC', curve: 'P-384' }, { kind: 'RSA', modulusBits: 4096 }],
  ])('root -> issuing CA -> OCSP signer (%s), keys generated in the HSM, accepted by openssl and certtool', async (name, rootKey, issuingKey) => {
    const rootSigner = await token.generateKeyPair(`${name}-root`, rootKey);
    const issuingSigner = await token.generateKeyPair(`${name}-issuing`, issuingKey);
    const ocspSigner = await token.generateKeyPair(`${name}-ocsp`, { kind: 'EC', curve: 'P-256' });
    const chain = await buildChain(rootSigner, issuingSigner, ocspSigner);
    expectRealClientsAccept(directory, `hsm-${name}`, chain);
  }, 120_000);

  it('writes a CSR with an HSM key that openssl verifies', async () => {
    const signer = await token.signer('rsa2048-p256-issuing');
    const csr = await buildCaCertificateRequest({ signer, subject: ISSUING_NAME });
    writeFileSync(join(directory, 'hsm.csr'), csr.pem);
    expect(run('openssl', ['req', '-in', join(directory, 'hsm.csr'), '-verify', '-noout'])).toMatch(/verify OK/);
  });
});
