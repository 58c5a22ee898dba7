/**
 * Issuance checked by real clients: OpenSSL makes the holder key and the
 * PKCS#10 request (as card middleware would), this library issues, and
 * `openssl verify`, `openssl x509 -text` and GnuTLS `certtool -i` judge the
 * result (STYLE.md rule 5: a test asserts what a user would see).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithTools } from '../../../../test/support/system-tool';
import { moicaProfile } from './certificate-profile';
import { parseCertificationRequest } from './certification-request';
import { issueCertificate } from './issue-certificate';
import { checkKeyQuality } from './key-quality';
import { prepareCertificate } from './prepare-certificate';
import { ChunkedModulusProducts } from './shared-prime-index';
import { makeTestChain, TestChain } from './testing/issuer-fixture';

const profile = moicaProfile({ caLabel: 'moica-g3', baseUrl: 'http://moica.example.tw', crlPartitions: 256 });
/** 2027-06-01T00:00:00Z: inside every validity below, so the test never depends on the clock. */
const VERIFY_AT = String(Date.UTC(2027, 5, 1) / 1000);

function run(command: string, args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describeWithTools(['openssl', 'certtool'], 'holder certificates judged by OpenSSL and GnuTLS', () => {
  let dir: string;
  let chain: TestChain;
  const index = new ChunkedModulusProducts(16);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'issuance-clients-'));
    chain = await makeTestChain();
    writeFileSync(join(dir, 'chain.pem'), chain.rootPem + chain.issuingPem);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['RSA-2048', ['-newkey', 'rsa:2048'], 'signature', 'Digital Signature, Non Repudiation'],
    ['P-256', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], 'encryption', 'Key Agreement'],
  ] as const)('issues for an OpenSSL %s request and OpenSSL/GnuTLS accept it', async (name, keyArgs, kind, keyUsageText) => {
    const req = run('openssl', ['req', '-new', ...keyArgs, '-nodes', '-subj', '/CN=x', '-keyout', `${name}.key`, '-out', `${name}.csr`], dir);
    expect(req.status).toBe(0);
    const csr = parseCertificationRequest(readFileSync(join(dir, `${name}.csr`), 'utf8'));
    if (!csr.ok) throw new Error(`${csr.code}: ${csr.detail}`);
    const checked = await checkKeyQuality(csr.csr.publicKey, { isKnownPublicKey: async () => false, sharedPrimeIndex: index });
    if (!checked.ok) throw new Error(`${checked.code}: ${checked.detail}`);

    const prepared = prepareCertificate(
      {
        kind,
        publicKey: checked.checked,
        holderName: '王小明',
        holderNumber: '0000000112831644',
        nationalIdLast4: '6789',
        email: 'wang@example.tw',
        notBefore: new Date('2026-11-01T00:00:00Z'),
        notAfter: new Date('2031-10-31T23:59:59Z'),
        crlPartition: 17,
      },
      profile,
      chain.issuer,
      { validityCap: new Date('2034-11-01T00:00:00Z') },
    );
    const issued = await issueCertificate(prepared, chain.issuingSigner);
    const certPath = join(dir, `${name}.pem`);
    writeFileSync(certPath, issued.pem);

    const verify = run('openssl', ['verify', '-attime', VERIFY_AT, '-CAfile', 'chain.pem', certPath], dir);
    expect(verify.stderr).toBe('');
    expect(verify.stdout.trim()).toBe(`${certPath}: OK`);

    // The certificate's key is the request's: the private key OpenSSL kept matches it.
    const keyModulus = run('openssl', ['pkey', '-in', `${name}.key`, '-pubout'], dir).stdout;
    expect(run('openssl', ['x509', '-in', certPath, '-noout', '-pubkey'], dir).stdout).toBe(keyModulus);

    const text = run('openssl', ['x509', '-in', certPath, '-noout', '-text', '-nameopt', 'utf8,sep_comma_plus_space'], dir);
    expect(text.status).toBe(0);
    const out = text.stdout;
    expect(out).toContain('Version: 3 (0x2)');
    expect(out).toContain('Subject: C=TW, CN=王小明, serialNumber=0000000112831644');
    expect(out).toMatch(/X509v3 Key Usage: critical\s+([^\n]+)/);
    expect(out.match(/X509v3 Key Usage: critical\s+([^\n]+)/)![1].trim()).toBe(keyUsageText);
    expect(out).toContain('Policy: 2.16.886.101.0.3.3');
    expect(out).toMatch(/X509v3 Subject Directory Attributes: *\n\s+0\.0\.\.\.`\.v\.d\.31\.\.\.6789\n/);
    expect(out).toContain('URI:http://moica.example.tw/crl/moica-g3/17.crl');
    expect(out).toContain('X509v3 Freshest CRL');
    expect(out).toContain('URI:http://moica.example.tw/crl/moica-g3/17-delta.crl');
    expect(out).toContain('OCSP - URI:http://moica.example.tw/ocsp/moica-g3');
    expect(out).toContain('CA Issuers - URI:http://moica.example.tw/certs/moica-g3.crt');
    expect(out).toContain('email:wang@example.tw');
    expect(out).toContain('X509v3 Subject Key Identifier');
    expect(out).toContain('X509v3 Authority Key Identifier');
    expect((out.match(/critical/g) ?? []).length).toBe(1); // keyUsage only
    expect(out).not.toMatch(/[A-Z][0-9]{9}/);

    const gnutls = run('certtool', ['-i', '--infile', certPath], dir);
    expect(gnutls.status).toBe(0);
    expect(gnutls.stdout).toContain('2.16.886.101.0.3.3');
    // GnuTLS does not name 2.5.29.9; its hex dump shows the whole value: one attribute
    // 2.16.886.1.100.2.51 with the PrintableString "6789", and nothing more of the national ID.
    expect(gnutls.stdout).toContain('Unknown extension 2.5.29.9 (not critical):');
    expect(gnutls.stdout).toContain('Hexdump: 301330110607608676016402333106130436373839');
    expect(gnutls.stdout).toContain('http://moica.example.tw/crl/moica-g3/17.crl');
    expect(gnutls.stdout).toContain('RFC822Name: wang@example.tw');
    expect(gnutls.stderr).not.toMatch(/error/i);

    if (csr.csr.publicKey.kind === 'RSA') index.add(csr.csr.publicKey.modulus);
  });
});
