/**
 * Real clients read what this module writes: `openssl crl`, `certtool
 * --crl-info`, `openssl verify -crl_check` and `openssl ocsp` (STYLE.md
 * rule 5: a test asserts what a user would see).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithTools } from '../../../../test/support/system-tool';
import { buildCrl, signedCrlDer, CrlParameters, CrlEntry } from './index';
import { encodeCrlEntry } from './crl-entry';
import { encodeCertId } from './ocsp-cert-id';
import { parseOcspRequest } from './ocsp-request-parser';
import { encodeSingleResponse, OcspCertStatus } from './ocsp-single-response';
import { OcspResponseBuilder } from './ocsp-response-builder';
import { serialHex } from './serial-number';
import { createTestPki, DELTA_URI, PARTITION_URI, TestPki } from './testing/test-pki';

const PARTITION_DELTA_URI = 'http://crl.example.tw/moica/partition-7-delta.crl';
import { toPem } from './testing/test-certificates';

const THIS_UPDATE = new Date('2026-03-01T00:00:00Z');
const NEXT_UPDATE = new Date('2026-03-08T00:00:00Z');
/** Verification time for openssl verify (-attime): inside the CRL's validity. */
const AT_TIME = String(Date.UTC(2026, 2, 2) / 1000);

function run(command: string, args: string[], cwd: string): { status: number | null; out: string } {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

describeWithTools(['openssl', 'certtool'], 'revocation encodings with real clients', () => {
  let pki: TestPki;
  let dir: string;
  const file = (name: string) => join(dir, name);

  const revokedEntries = (): CrlEntry[] => [
    {
      serial: pki.leaves.revoked.serial,
      revokedAt: new Date('2026-02-10T08:30:00Z'),
      reason: 'keyCompromise',
      invalidityDate: new Date('2026-02-09T00:00:00Z'),
    },
    { serial: pki.leaves.suspended.serial, revokedAt: new Date('2026-02-11T09:00:00Z'), reason: 'certificateHold' },
    { serial: 0x77n, revokedAt: new Date('2026-02-12T10:00:00Z') }, // unspecified: no reasonCode extension
  ];

  const parameters = (scope: CrlParameters['scope'], crlNumber: bigint): CrlParameters => ({
    issuer: pki.issuer,
    signer: pki.caSigner,
    crlNumber,
    thisUpdate: THIS_UPDATE,
    nextUpdate: NEXT_UPDATE,
    scope,
  });

  beforeAll(async () => {
    pki = await createTestPki();
    dir = mkdtempSync(join(tmpdir(), 'revocation-clients-'));
    writeFileSync(file('ca.pem'), toPem(pki.caCertificateDer, 'CERTIFICATE'));
    for (const [name, leaf] of Object.entries(pki.leaves)) writeFileSync(file(`${name}.pem`), toPem(leaf.der, 'CERTIFICATE'));

    const complete = await buildCrl(parameters({ kind: 'complete', freshestCrlUris: [DELTA_URI] }, 42n), revokedEntries());
    const partition = await buildCrl(
      parameters({ kind: 'partition', distributionPointUri: PARTITION_URI, onlyContainsUserCerts: true, freshestCrlUris: [PARTITION_DELTA_URI] }, 43n),
      revokedEntries().map(encodeCrlEntry),
    );
    // RFC 5280 §5.2.4: a partition's delta has the same scope, i.e. the same issuingDistributionPoint.
    const partitionDelta = await buildCrl(
      parameters({ kind: 'delta', baseCrlNumber: 43n, partition: { distributionPointUri: PARTITION_URI, onlyContainsUserCerts: true } }, 47n),
      [{ serial: pki.leaves.suspended.serial, revokedAt: new Date('2026-02-20T00:00:00Z'), reason: 'removeFromCRL' }],
    );
    const delta = await buildCrl(parameters({ kind: 'delta', baseCrlNumber: 42n }, 44n), [
      { serial: pki.leaves.suspended.serial, revokedAt: new Date('2026-02-20T00:00:00Z'), reason: 'removeFromCRL' },
      { serial: 0x88n, revokedAt: new Date('2026-02-21T00:00:00Z'), reason: 'superseded' },
    ]);
    for (const [name, crl] of Object.entries({ complete, partition, delta, 'partition-delta': partitionDelta })) {
      const der = signedCrlDer(crl);
      writeFileSync(file(`${name}.crl`), der);
      writeFileSync(file(`${name}.crl.pem`), toPem(der, 'X509 CRL'));
    }
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('openssl crl', () => {
    it('shows the complete CRL with its number, AKI, freshestCRL and reasons', () => {
      const { status, out } = run('openssl', ['crl', '-inform', 'DER', '-in', 'complete.crl', '-noout', '-text', '-CAfile', 'ca.pem'], dir);
      expect(status).toBe(0);
      expect(out).toContain('verify OK');
      expect(out).toMatch(/X509v3 CRL Number:\s*\n\s*42/);
      expect(out).toContain('X509v3 Authority Key Identifier');
      expect(out).toMatch(/X509v3 Freshest CRL:[\s\S]*URI:http:\/\/crl\.example\.tw\/moica\/delta\.crl/);
      expect(out).toContain('Last Update: Mar  1 00:00:00 2026 GMT');
      expect(out).toContain('Next Update: Mar  8 00:00:00 2026 GMT');
      expect(out).toMatch(/Serial Number: D0C0FFEE0002\s*\n\s*Revocation Date: Feb 10 08:30:00 2026 GMT[\s\S]*Key Compromise[\s\S]*Invalidity Date:\s*\n\s*Feb  9 00:00:00 2026 GMT/);
      expect(out).toMatch(/Serial Number: 5A17C0FFEE0003[\s\S]*Certificate Hold/);
      expect(out).toMatch(/Serial Number: 77\s*\n\s*Revocation Date: Feb 12 10:00:00 2026 GMT\s*\n\s*Signature Algorithm/);
      expect(out).not.toContain('Issuing Distribution Point');
    });

    it('shows the partition CRL with its critical issuing distribution point', () => {
      const { status, out } = run('openssl', ['crl', '-inform', 'DER', '-in', 'partition.crl', '-noout', '-text', '-CAfile', 'ca.pem'], dir);
      expect(status).toBe(0);
      expect(out).toContain('verify OK');
      expect(out).toMatch(/X509v3 Issuing Distribution Point: critical[\s\S]*URI:http:\/\/crl\.example\.tw\/moica\/partition-7\.crl[\s\S]*Only User Certificates/);
      expect(out).toMatch(/X509v3 CRL Number:\s*\n\s*43/);
    });

    it('shows the delta CRL with its critical delta indicator and removeFromCRL', () => {
      const { status, out } = run('openssl', ['crl', '-inform', 'DER', '-in', 'delta.crl', '-noout', '-text', '-CAfile', 'ca.pem'], dir);
      expect(status).toBe(0);
      expect(out).toContain('verify OK');
      expect(out).toMatch(/X509v3 Delta CRL Indicator: critical\s*\n\s*42/);
      expect(out).toMatch(/X509v3 CRL Number:\s*\n\s*44/);
      expect(out).toMatch(/Serial Number: 5A17C0FFEE0003[\s\S]*Remove From CRL/);
      expect(out).toMatch(/Serial Number: 88[\s\S]*Superseded/);
      expect(out).not.toContain('Freshest CRL');
    });
    it('reads every entry of a CRL of 20,000 entries', async () => {
      const entries = Array.from({ length: 20_000 }, (_, i) => ({
        serial: BigInt(i + 1) * 0x10000000001n,
        revokedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
        reason: i % 2 ? ('keyCompromise' as const) : undefined,
      }));
      const crl = await buildCrl(parameters({ kind: 'complete' }, 46n), entries);
      writeFileSync(file('large.crl'), signedCrlDer(crl));
      const { status, out } = run('openssl', ['crl', '-inform', 'DER', '-in', 'large.crl', '-noout', '-text', '-CAfile', 'ca.pem'], dir);
      expect(status).toBe(0);
      expect(out).toContain('verify OK');
      expect(out.match(/Serial Number: /g)?.length).toBe(20_000);
      expect(out.match(/Key Compromise/g)?.length).toBe(10_000);
      expect(out).toContain(`Serial Number: ${(20_000n * 0x10000000001n).toString(16).toUpperCase()}`);
    });
  });

  describe('certtool --crl-info', () => {
    it.each([
      ['complete', /CRL Number \(not critical\): 2a/, /Unknown extension 2\.5\.29\.46 \(not critical\):\s*\n\s*ASCII: .*http:\/\/crl\.example\.tw\/moica\/delta\.crl/, 3],
      ['partition', /CRL Number \(not critical\): 2b/, /Unknown extension 2\.5\.29\.28 \(critical\):\s*\n\s*ASCII: .*http:\/\/crl\.example\.tw\/moica\/partition-7\.crl/, 3],
      ['delta', /CRL Number \(not critical\): 2c/, /Unknown extension 2\.5\.29\.27 \(critical\):[\s\S]*Hexdump: 02012a/, 2],
    ])('parses the %s CRL', (name, number, scopeExtension, count) => {
      const { status, out } = run('certtool', ['--crl-info', '--inder', '--infile', `${name}.crl`], dir);
      expect(status).toBe(0);
      expect(out).toContain('Version: 2');
      expect(out).toContain('Issuer: CN=MOICA Test Root,C=TW');
      expect(out).toMatch(/Authority Key Identifier \(not critical\)/);
      expect(out).toMatch(number as RegExp);
      expect(out).toMatch(scopeExtension as RegExp);
      expect(out).toContain(`Revoked certificates (${count}):`);
      expect(out).toMatch(/Serial Number \(hex\): 5a17c0ffee0003/);
    });

    it('verifies a CRL against the CA; a nextUpdate from 2050 is a GeneralizedTime', async () => {
      // GnuTLS checks nextUpdate against the real clock (no --attime): this CRL is valid until 2099.
      const longLived = await buildCrl(
        { ...parameters({ kind: 'complete' }, 45n), nextUpdate: new Date('2099-12-31T00:00:00Z') },
        revokedEntries(),
      );
      const der = signedCrlDer(longLived);
      writeFileSync(file('long-lived.crl.pem'), toPem(der, 'X509 CRL'));
      const verified = run('certtool', ['--verify-crl', '--load-ca-certificate', 'ca.pem', '--infile', 'long-lived.crl.pem'], dir);
      expect(verified.out).toMatch(/Verification output: Verified/);
      expect(verified.status).toBe(0);
      expect(verified.out).toContain('Next at: Thu Dec 31 00:00:00 UTC 2099');
      const shown = run('openssl', ['crl', '-in', 'long-lived.crl.pem', '-noout', '-text'], dir);
      expect(shown.out).toContain('Last Update: Mar  1 00:00:00 2026 GMT');
      expect(shown.out).toContain('Next Update: Dec 31 00:00:00 2099 GMT');
      // RFC 5280 §5.1.2.5: thisUpdate UTCTime (0x17, 13 octets), nextUpdate GeneralizedTime (0x18, 15 octets).
      expect(Buffer.from(der).includes(Buffer.from('170d3236303330313030303030305a180f32303939313233313030303030305a', 'hex'))).toBe(true);
    });
  });

  describe('openssl verify -crl_check', () => {
    it.each([
      ['complete', 'good', true],
      ['complete', 'revoked', false],
      ['complete', 'suspended', false],
      ['partition', 'good', true],
      ['partition', 'revoked', false],
      ['partition', 'suspended', false],
    ])('with the %s CRL: the %s leaf is accepted = %s', (crl, leaf, accepted) => {
      const { status, out } = run(
        'openssl',
        ['verify', '-attime', AT_TIME, '-crl_check', '-CAfile', 'ca.pem', '-CRLfile', `${crl}.crl.pem`, `${leaf}.pem`],
        dir,
      );
      if (accepted) {
        expect(out).toContain(`${leaf}.pem: OK`);
        expect(status).toBe(0);
      } else {
        expect(out).toContain('certificate revoked');
        expect(status).not.toBe(0);
      }
    });
    it.each([
      ['complete', 'suspended', true],
      ['complete', 'revoked', false],
      ['complete', 'good', true],
      ['partition', 'suspended', true],
      ['partition', 'revoked', false],
    ])('with the %s CRL and its delta (-use_deltas): the %s leaf is accepted = %s', (base, leaf, accepted) => {
      // The delta lists the suspended leaf as removeFromCRL: resumed (DOMAIN.md; RFC 5280 §5.3.1).
      const delta = base === 'complete' ? 'delta' : 'partition-delta';
      const { status, out } = run(
        'openssl',
        ['verify', '-attime', AT_TIME, '-crl_check', '-use_deltas', '-CAfile', 'ca.pem',
          '-CRLfile', `${base}.crl.pem`, '-CRLfile', `${delta}.crl.pem`, `${leaf}.pem`],
        dir,
      );
      if (accepted) {
        expect(out).toContain(`${leaf}.pem: OK`);
        expect(status).toBe(0);
      } else {
        expect(out).toContain('certificate revoked');
        expect(status).not.toBe(0);
      }
    });
  });

  describe('openssl ocsp', () => {
    const statuses = (): Record<string, OcspCertStatus> => ({
      [serialHex(pki.leaves.good.serial)]: { status: 'good' },
      [serialHex(pki.leaves.revoked.serial)]: { status: 'revoked', revokedAt: new Date('2026-02-10T08:30:00Z'), reason: 'keyCompromise' },
      [serialHex(pki.leaves.suspended.serial)]: { status: 'revoked', revokedAt: new Date('2026-02-11T09:00:00Z'), reason: 'certificateHold' },
    });

    /** What the responder does: parse, look up, answer (signed by the CA or the delegated responder). */
    async function respond(requestFile: string, responseFile: string, delegated: boolean): Promise<void> {
      const parsed = parseOcspRequest(new Uint8Array(readFileSync(file(requestFile))));
      if (!parsed.ok) throw new Error(`request refused: ${parsed.error.detail}`);
      const builder = new OcspResponseBuilder(
        delegated
          ? { signer: pki.responderSigner, signerCertificateDer: pki.responderCertificateDer }
          : { signer: pki.caSigner, signerCertificateDer: pki.caCertificateDer },
      );
      const singleResponses = parsed.request.requests.map((request) =>
        encodeSingleResponse({
          certIdDer: request.certIdDer,
          certStatus: statuses()[request.serialHex] ?? { status: 'unknown' },
          thisUpdate: new Date('2026-03-01T00:00:00Z'),
          // OpenSSL checks nextUpdate against the real clock: far enough not to expire (GeneralizedTime).
          nextUpdate: new Date('2099-12-31T00:00:00Z'),
        }),
      );
      const response = await builder.build({ producedAt: new Date('2026-03-01T00:00:05Z'), singleResponses, nonce: parsed.request.nonce });
      writeFileSync(file(responseFile), response);
    }

    it.each([
      ['SHA-1 with nonce', [], 'sha1', true],
      ['SHA-1 without nonce', ['-no_nonce'], 'sha1', false],
      ['SHA-256 with nonce', ['-sha256'], 'sha256', true],
    ])('parses a request made by openssl (%s)', (name, extra, hashAlgorithm, hasNonce) => {
      const request = `req-${name.replace(/\W+/g, '-')}.der`;
      const made = run('openssl', ['ocsp', '-issuer', 'ca.pem', ...extra, '-cert', 'good.pem', '-cert', 'revoked.pem', '-reqout', request], dir);
      expect(made.status).toBe(0);
      const parsed = parseOcspRequest(new Uint8Array(readFileSync(file(request))));
      expect(parsed.ok).toBe(true);
      if (!parsed.ok) return;
      expect(parsed.request.signed).toBe(false);
      expect(parsed.request.requests.map((r) => [r.hashAlgorithm, r.serialHex])).toEqual([
        [hashAlgorithm, serialHex(pki.leaves.good.serial)],
        [hashAlgorithm, serialHex(pki.leaves.revoked.serial)],
      ]);
      const hashes = pki.issuer.certIdHashes[hashAlgorithm as 'sha1' | 'sha256'];
      for (const [i, entry] of parsed.request.requests.entries()) {
        // encodeCertId (for pre-produced responses) writes exactly what OpenSSL sends.
        const serial = [pki.leaves.good.serial, pki.leaves.revoked.serial][i];
        expect(Buffer.from(entry.certIdDer)).toEqual(Buffer.from(encodeCertId(pki.issuer, hashAlgorithm as 'sha1' | 'sha256', serial)));
        expect(Buffer.from(entry.issuerNameHash)).toEqual(Buffer.from(hashes.nameHash));
        expect(Buffer.from(entry.issuerKeyHash)).toEqual(Buffer.from(hashes.keyHash));
      }
      expect(parsed.request.nonce !== undefined).toBe(hasNonce);
      if (hasNonce) expect(parsed.request.nonce?.length).toBe(16); // OpenSSL's default nonce
    });

    it.each([
      ['good', false, /good\.pem: good/, /Cert Status: good/],
      ['revoked', false, /revoked\.pem: revoked[\s\S]*Reason: keyCompromise[\s\S]*Revocation Time: Feb 10 08:30:00 2026 GMT/, /Cert Status: revoked\s*\n\s*Revocation Time: Feb 10 08:30:00 2026 GMT\s*\n\s*Revocation Reason: keyCompromise \(0x1\)/],
      ['suspended', true, /suspended\.pem: revoked[\s\S]*Reason: certificateHold/, /Revocation Reason: certificateHold \(0x6\)/],
      ['unlisted', true, /unlisted\.pem: unknown/, /Cert Status: unknown/],
    ])('the answer for the %s leaf verifies, echoes the nonce and shows the status (delegated responder: %s)', async (leaf, delegated, clientView, responseText) => {
      const request = `req-${leaf}.der`;
      const response = `resp-${leaf}.der`;
      expect(run('openssl', ['ocsp', '-issuer', 'ca.pem', '-cert', `${leaf}.pem`, '-reqout', request], dir).status).toBe(0);
      await respond(request, response, delegated as boolean);

      // The request and response together: signature, chain and nonce (OCSP_check_nonce) are checked.
      const withRequest = run('openssl', ['ocsp', '-reqin', request, '-respin', response, '-CAfile', 'ca.pem', '-resp_text'], dir);
      expect(withRequest.out).toContain('Response verify OK');
      expect(withRequest.out).not.toMatch(/Nonce Verify error|no nonce in response/i);
      expect(withRequest.out).toMatch(/Response Extensions:\s*\n\s*OCSP Nonce/);
      expect(withRequest.out).toMatch(responseText as RegExp);
      expect(withRequest.status).toBe(0);

      // What a relying party sees for its certificate. (With -cert, openssl builds a fresh request
      // instead of reading -reqin; -no_nonce keeps it from expecting a nonce of its own.)
      const { status, out } = run(
        'openssl',
        ['ocsp', '-no_nonce', '-respin', response, '-issuer', 'ca.pem', '-CAfile', 'ca.pem', '-cert', `${leaf}.pem`],
        dir,
      );
      expect(out).toContain('Response verify OK');
      expect(out).toMatch(clientView as RegExp);
      expect(status).toBe(0);
    });

    it('reports a response whose nonce does not match the request', async () => {
      expect(run('openssl', ['ocsp', '-issuer', 'ca.pem', '-cert', 'good.pem', '-reqout', 'req-a.der'], dir).status).toBe(0);
      expect(run('openssl', ['ocsp', '-issuer', 'ca.pem', '-cert', 'good.pem', '-reqout', 'req-b.der'], dir).status).toBe(0);
      await respond('req-a.der', 'resp-a.der', false);
      const { out } = run(
        'openssl',
        ['ocsp', '-reqin', 'req-b.der', '-respin', 'resp-a.der', '-CAfile', 'ca.pem'],
        dir,
      );
      expect(out).toMatch(/Nonce Verify error/i);
    });

    it('answers several CertIDs in one response, each with its status', async () => {
      const made = run(
        'openssl',
        ['ocsp', '-sha256', '-issuer', 'ca.pem', '-cert', 'good.pem', '-cert', 'revoked.pem', '-cert', 'unlisted.pem', '-reqout', 'req-multi.der'],
        dir,
      );
      expect(made.status).toBe(0);
      await respond('req-multi.der', 'resp-multi.der', true);
      const { status, out } = run(
        'openssl',
        ['ocsp', '-no_nonce', '-sha256', '-respin', 'resp-multi.der', '-issuer', 'ca.pem', '-CAfile', 'ca.pem',
          '-cert', 'good.pem', '-cert', 'revoked.pem', '-cert', 'unlisted.pem'],
        dir,
      );
      expect(out).toContain('Response verify OK');
      expect(out).toMatch(/good\.pem: good[\s\S]*revoked\.pem: revoked[\s\S]*unlisted\.pem: unknown/);
      expect(status).toBe(0);
    });
  });
});
