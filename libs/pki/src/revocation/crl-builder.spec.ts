import { createHash, createPublicKey, verify } from 'node:crypto';
import * as pkijs from 'pkijs';
import { OID } from '../oids';
import { Signer, SigningError, SoftwareSigner } from '../signing';
import { ByteChunks } from './byte-chunks';
import { buildCrl, CrlEntrySource, CrlParameters, signedCrlDer } from './crl-builder';
import { CrlEntry, encodeCrlEntry } from './crl-entry';
import { revocationIssuerFromCertificate } from './revocation-issuer';
import { makeTestCertificate } from './testing/test-certificates';
import { createTestPki, DELTA_URI, NOT_AFTER, NOT_BEFORE, PARTITION_URI, TestPki } from './testing/test-pki';

const hex = (bytes: ArrayBuffer | Uint8Array) => Buffer.from(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)).toString('hex');
const THIS_UPDATE = new Date('2026-03-01T00:00:00Z');
const NEXT_UPDATE = new Date('2026-03-08T00:00:00Z');

const ENTRIES: CrlEntry[] = [
  { serial: 0xd0c0ffee0002n, revokedAt: new Date('2026-02-10T08:30:00Z'), reason: 'keyCompromise', invalidityDate: new Date('2026-02-09T00:00:00Z') },
  { serial: '5a17c0ffee0003', revokedAt: new Date('2026-02-11T09:00:00Z'), reason: 'certificateHold' },
  { serial: 0x77n, revokedAt: new Date('2026-02-12T10:00:00Z') },
];

function parse(der: Uint8Array): pkijs.CertificateRevocationList {
  return pkijs.CertificateRevocationList.fromBER(der);
}

function extension(crl: pkijs.CertificateRevocationList, oid: string): pkijs.Extension | undefined {
  return crl.crlExtensions?.extensions.find((e) => e.extnID === oid);
}

async function* slowly<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield await Promise.resolve(item);
}

describe('buildCrl (RFC 5280 §5)', () => {
  let pki: TestPki;
  const parameters = (scope: CrlParameters['scope'], overrides: Partial<CrlParameters> = {}): CrlParameters => ({
    issuer: pki.issuer,
    signer: pki.caSigner,
    crlNumber: 42n,
    thisUpdate: THIS_UPDATE,
    nextUpdate: NEXT_UPDATE,
    scope,
    ...overrides,
  });

  beforeAll(async () => {
    pki = await createTestPki();
  });

  it('builds a complete CRL that parses, is signed by the CA and carries AKI, cRLNumber and freshestCRL', async () => {
    const crl = await buildCrl(parameters({ kind: 'complete', freshestCrlUris: [DELTA_URI] }), ENTRIES);
    const der = signedCrlDer(crl);
    expect(crl).toMatchObject({ crlNumber: 42n, entryCount: 3, byteLength: der.length, thisUpdate: THIS_UPDATE, nextUpdate: NEXT_UPDATE });
    expect(crl.sha256).toBe(createHash('sha256').update(der).digest('hex'));

    const parsed = parse(der);
    expect(parsed.version).toBe(1); // v2
    expect(hex(parsed.issuer.toSchema().toBER())).toBe(hex(pki.issuer.nameDer));
    expect(parsed.thisUpdate.value.toISOString()).toBe('2026-03-01T00:00:00.000Z');
    expect(parsed.nextUpdate?.value.toISOString()).toBe('2026-03-08T00:00:00.000Z');
    expect(parsed.revokedCertificates?.map((r) => hex(r.userCertificate.valueBlock.valueHexView))).toEqual(['00d0c0ffee0002', '5a17c0ffee0003', '77']);
    expect(parsed.crlExtensions?.extensions.map((e) => [e.extnID, e.critical])).toEqual([
      [OID.authorityKeyIdentifier, false],
      [OID.cRLNumber, false],
      [OID.freshestCRL, false],
    ]);
    expect(hex(extension(parsed, OID.authorityKeyIdentifier)!.extnValue.valueBlock.valueHexView)).toBe(`30168014${hex(pki.issuer.keyIdentifier)}`);
    expect(hex(extension(parsed, OID.cRLNumber)!.extnValue.valueBlock.valueHexView)).toBe('02012a');
    expect(parsed.signatureAlgorithm.algorithmId).toBe(OID.sha256WithRSAEncryption);

    const [, tbs] = crl.chunks;
    const publicKey = createPublicKey({ key: Buffer.from(pki.caSigner.publicKeySpki), format: 'der', type: 'spki' });
    expect(verify('sha256', tbs, publicKey, Buffer.from(parsed.signatureValue.valueBlock.valueHexView))).toBe(true);
    expect(hex(tbs)).toBe(hex(parsed.tbsView));
  });

  it('writes the same bytes whatever the entry source: objects, stored DERs, batches, async, known length', async () => {
    const scope = { kind: 'complete' } as const;
    const ders = ENTRIES.map(encodeCrlEntry);
    const batch = Buffer.concat(ders);
    const sources: Array<[string, Iterable<CrlEntrySource> | AsyncIterable<CrlEntrySource>, number | undefined]> = [
      ['objects', ENTRIES, undefined],
      ['stored DERs', ders, undefined],
      ['one batch of rows', [batch], undefined],
      ['async mixed', slowly<CrlEntrySource>([ENTRIES[0], ders[1], ders[2]]), undefined],
      ['known length', slowly(ders), batch.length],
    ];
    // RSA PKCS#1 v1.5 signatures are deterministic: equal TBS, equal CRL.
    const results = await Promise.all(
      sources.map(([, source, entriesByteLength]) => buildCrl(parameters(scope, { entriesByteLength }), source)),
    );
    for (const result of results) {
      expect(result.entryCount).toBe(3);
      expect(result.sha256).toBe(results[0].sha256);
    }
  });

  it('omits revokedCertificates when there are no entries (RFC 5280 §5.1.2.6)', async () => {
    for (const entriesByteLength of [undefined, 0]) {
      const crl = await buildCrl(parameters({ kind: 'complete' }, { entriesByteLength }), []);
      expect(crl.entryCount).toBe(0);
      const parsed = parse(signedCrlDer(crl));
      expect(parsed.revokedCertificates).toBeUndefined();
      expect(parsed.crlExtensions?.extensions.length).toBe(2);
    }
  });

  it('marks a partition with a critical issuingDistributionPoint (RFC 5280 §5.2.5)', async () => {
    const crl = await buildCrl(
      parameters({ kind: 'partition', distributionPointUri: PARTITION_URI, onlyContainsUserCerts: true, freshestCrlUris: [DELTA_URI] }),
      ENTRIES,
    );
    const parsed = parse(signedCrlDer(crl));
    const idp = extension(parsed, OID.issuingDistributionPoint)!;
    expect(idp.critical).toBe(true);
    // SEQUENCE { [0] { [0] { [6] uri } }, [1] TRUE }
    expect(hex(idp.extnValue.valueBlock.valueHexView)).toBe(`3034a02fa02d862b${hex(Buffer.from(PARTITION_URI))}8101ff`);
    expect(extension(parsed, OID.freshestCRL)?.critical).toBe(false);

    const allCerts = await buildCrl(parameters({ kind: 'partition', distributionPointUri: PARTITION_URI, onlyContainsUserCerts: false }), []);
    const allIdp = extension(parse(signedCrlDer(allCerts)), OID.issuingDistributionPoint)!;
    expect(hex(allIdp.extnValue.valueBlock.valueHexView)).toBe(`3031a02fa02d862b${hex(Buffer.from(PARTITION_URI))}`);
  });

  it('marks a delta CRL with a critical deltaCRLIndicator and no freshestCRL (RFC 5280 §5.2.4, §5.2.6)', async () => {
    const crl = await buildCrl(parameters({ kind: 'delta', baseCrlNumber: 41n }), [
      { serial: 0x5a17c0ffee0003n, revokedAt: new Date('2026-02-20T00:00:00Z'), reason: 'removeFromCRL' },
    ]);
    const parsed = parse(signedCrlDer(crl));
    expect(parsed.crlExtensions?.extensions.map((e) => [e.extnID, e.critical])).toEqual([
      [OID.authorityKeyIdentifier, false],
      [OID.cRLNumber, false],
      [OID.deltaCRLIndicator, true],
    ]);
    expect(hex(extension(parsed, OID.deltaCRLIndicator)!.extnValue.valueBlock.valueHexView)).toBe('020129');
    const reason = parsed.revokedCertificates?.[0].crlEntryExtensions?.extensions[0];
    expect(reason?.extnID).toBe(OID.cRLReason);
    expect(hex(reason!.extnValue.valueBlock.valueHexView)).toBe('0a0108');

    const partitionDelta = await buildCrl(
      parameters({ kind: 'delta', baseCrlNumber: 41n, partition: { distributionPointUri: PARTITION_URI, onlyContainsUserCerts: true } }),
      [],
    );
    const partitionParsed = parse(signedCrlDer(partitionDelta));
    expect(partitionParsed.crlExtensions?.extensions.map((e) => e.extnID)).toEqual([
      OID.authorityKeyIdentifier,
      OID.cRLNumber,
      OID.deltaCRLIndicator,
      OID.issuingDistributionPoint,
    ]);
  });

  it('signs with an ECDSA CA key too (RFC 5758 §3.2)', async () => {
    const signer = await SoftwareSigner.generate('software:test-ec-ca', { kind: 'EC', curve: 'P-256' });
    const certificate = await makeTestCertificate({
      serial: 9n, commonName: 'EC CA', subjectPublicKeySpki: signer.publicKeySpki, notBefore: NOT_BEFORE, notAfter: NOT_AFTER, role: 'ca', signer,
    });
    const crl = await buildCrl(parameters({ kind: 'complete' }, { signer, issuer: revocationIssuerFromCertificate(certificate) }), ENTRIES);
    const parsed = parse(signedCrlDer(crl));
    expect(parsed.signatureAlgorithm.algorithmId).toBe(OID.ecdsaWithSHA256);
    const publicKey = createPublicKey({ key: Buffer.from(signer.publicKeySpki), format: 'der', type: 'spki' });
    expect(verify('sha256', crl.chunks[1], { key: publicKey, dsaEncoding: 'der' }, Buffer.from(parsed.signatureValue.valueBlock.valueHexView))).toBe(true);
  });

  it('spans many entries and long-form lengths', async () => {
    // 1,000: asn1js 4 (under pkijs) refuses more than 10,000 ASN.1 nodes by default; bigger CRLs
    // are checked with openssl (revocation-clients.spec.ts) and the benchmark.
    const many = Array.from({ length: 1000 }, (_, i) => ({ serial: BigInt(i + 1) * 0x1000003n, revokedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)), reason: 'superseded' as const }));
    const crl = await buildCrl(parameters({ kind: 'complete' }), many);
    const parsed = parse(signedCrlDer(crl));
    expect(parsed.revokedCertificates?.length).toBe(1000);
    expect(hex(parsed.revokedCertificates![999].userCertificate.valueBlock.valueHexView)).toBe('03e8000bb8');
  });

  describe('refuses', () => {
    it.each<[string, () => CrlParameters, CrlEntrySource[], RegExp]>([
      ['removeFromCRL outside a delta CRL', () => parameters({ kind: 'complete' }), [{ serial: 1n, revokedAt: THIS_UPDATE, reason: 'removeFromCRL' }], /removeFromCRL is only allowed in delta CRLs/],
      ['a base CRL number not below the delta number', () => parameters({ kind: 'delta', baseCrlNumber: 42n }), [], /base CRL number must be lower/],
      ['nextUpdate not after thisUpdate', () => parameters({ kind: 'complete' }, { nextUpdate: THIS_UPDATE }), [], /nextUpdate must be after thisUpdate/],
      ['a CRL number over 20 octets (§5.2.3)', () => parameters({ kind: 'complete' }, { crlNumber: 2n ** 160n }), [], /longer than 20 octets/],
      ['a signer that is not the CA key', () => parameters({ kind: 'complete' }, { signer: pki.responderSigner }), [], /does not hold the key of the issuing CA/],
      ['a stored entry that is not a SEQUENCE', () => parameters({ kind: 'complete' }), [Uint8Array.of(0x31, 0x00)], /stored entry 0 is not a DER SEQUENCE/],
      ['a truncated stored entry', () => parameters({ kind: 'complete' }), [encodeCrlEntry(ENTRIES[0]).subarray(0, 10)], /is truncated/],
      ['an empty stored entry', () => parameters({ kind: 'complete' }), [new Uint8Array(0)], /empty stored entry/],
      ['entries longer than entriesByteLength', () => parameters({ kind: 'complete' }, { entriesByteLength: 10 }), [encodeCrlEntry(ENTRIES[0])], /exceed entriesByteLength/],
      ['entries shorter than entriesByteLength', () => parameters({ kind: 'complete' }, { entriesByteLength: 1000 }), [encodeCrlEntry(ENTRIES[0])], /shorter than entriesByteLength/],
      ['an invalid entry, naming it', () => parameters({ kind: 'complete' }), [ENTRIES[0], { serial: 0n, revokedAt: THIS_UPDATE }], /complete CRL 42: entry 1: serial number zero/],
      ['a URI that is not a URI', () => parameters({ kind: 'partition', distributionPointUri: 'not a uri', onlyContainsUserCerts: true }), [], /not a URI/],
    ])('%s', async (_name, makeParameters, entries, message) => {
      await expect(buildCrl(makeParameters(), entries)).rejects.toThrow(message);
    });

    it('and names the CRL when the signer fails, with the SigningError as cause', async () => {
      const failing: Signer = {
        ...pki.caSigner,
        keyLabel: pki.caSigner.keyLabel,
        keyAlgorithm: pki.caSigner.keyAlgorithm,
        signatureAlgorithm: pki.caSigner.signatureAlgorithm,
        publicKeySpki: pki.caSigner.publicKeySpki,
        sign: async () => {
          throw new SigningError('pkcs11:slot0/ca', 'device removed');
        },
        close: async () => undefined,
      };
      const error = await buildCrl(
        parameters({ kind: 'partition', distributionPointUri: PARTITION_URI, onlyContainsUserCerts: true }, { signer: failing, crlNumber: 7n }),
        ENTRIES,
      ).catch((e: unknown) => e as Error);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toBe(`signing partition CRL 7 (${PARTITION_URI})`);
      expect((error as Error).cause).toBeInstanceOf(SigningError);
    });
  });
});

describe('ByteChunks', () => {
  it.each([1, 3, 7, 64])('keeps every byte in order across chunks of %d octets', (chunkSize) => {
    const chunks = new ByteChunks(chunkSize);
    const parts = [Uint8Array.of(1, 2, 3, 4, 5), Uint8Array.of(), Uint8Array.of(6), Uint8Array.from({ length: 20 }, (_, i) => 100 + i)];
    for (const part of parts) chunks.append(part);
    expect(chunks.byteLength).toBe(26);
    const target = new Uint8Array(30);
    expect(chunks.drainInto(target, 2)).toBe(28);
    expect(hex(target)).toBe(hex(Uint8Array.of(0, 0, ...parts.flatMap((p) => [...p]), 0, 0)));
  });
});
