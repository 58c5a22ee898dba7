import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { PreparedCertificate } from '@moica/pki';
import { ProblemException, toProblem } from '@moica/platform';
import { createDataSource } from '../../../../db/data-source';
import { createTestDatabase } from '../../../../test/support/database';
import { CertificateIssuanceService, type CertificateOrder } from './certificate-issuance.service';
import type { IssuingCa } from './issuing-ca.service';

/**
 * "A key never seen before" (key quality) is checked before signing, when a
 * concurrent issuance of the same key is not yet visible. Recording the
 * pending certificates re-checks it under a lock per key, counting the
 * certificates still being issued.
 */
describe('a key is certified for the first time once, even by two requests at once (real PostgreSQL)', () => {
  let db: { url: string; drop(): Promise<void> };
  let ds: DataSource;
  let ca: IssuingCa;
  let issuance: CertificateIssuanceService;

  beforeAll(async () => {
    db = await createTestDatabase();
    ds = await createDataSource(db.url, 'first-certification-test').initialize();
    const spki = randomBytes(20);
    const [{ id }] = await ds.query(
      `INSERT INTO certificate_authority (name, role, subject_dn, certificate_der, key_location, key_algorithm, spki_sha1, spki_sha256,
                                         subject_sha1, subject_sha256, not_before, not_after)
       VALUES ('first-cert-ca', 'issuing', 'CN=t', $1, 'software:/x', 'EC', $1, $1, $1, $1, now() - interval '1 year', now() + interval '10 years')
       RETURNING id`,
      [spki],
    );
    ca = { id } as IssuingCa;
    issuance = new CertificateIssuanceService(ds, null as never, { now: () => new Date() } as never, {} as never);
  });
  afterAll(async () => {
    await ds?.destroy();
    await db.drop();
  });

  /** What `prepare` hands to `record` for one new-card key (only the fields `record` stores). */
  function newCardKey(spki: Buffer, firstCertification = true): { order: CertificateOrder; prepared: PreparedCertificate } {
    const prepared = {
      serial: { value: BigInt(`0x${randomBytes(15).toString('hex')}`) },
      kind: 'signature',
      notBefore: new Date(),
      notAfter: new Date(Date.now() + 86_400_000),
      tbsDer: Uint8Array.of(0x30, 0x00),
      subjectPublicKeySpki: spki,
      renewal: false,
    } as unknown as PreparedCertificate;
    return { order: { request: { crlPartition: 0 } as never, firstCertification }, prepared };
  }

  it('records one of two concurrent first certifications of a key and refuses the other with key-already-in-use', async () => {
    const spki = randomBytes(64);
    const outcomes = await Promise.allSettled([issuance.record(ca, [newCardKey(spki)]), issuance.record(ca, [newCardKey(spki)])]);
    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected')!.reason;
    expect(toProblem(refused)).toMatchObject({ status: 422, type: 'urn:moica-ca:problem:key-already-in-use' });
    const pending = await ds.query(`SELECT count(*)::int AS n FROM certificate WHERE status = 'pending' AND tbs_der = '\\x3000'`);
    expect(pending[0].n).toBe(1);
  });

  it('lets the key be certified again once the first attempt was abandoned, and leaves renewals (same key by design) alone', async () => {
    const spki = randomBytes(64);
    const [first] = await issuance.record(ca, [newCardKey(spki)]);
    await issuance.abandonRecorded([first.id], 'test: the first attempt failed to sign');
    await expect(issuance.record(ca, [newCardKey(spki)])).resolves.toHaveLength(1);
    // A renewal or an e-mail certificate certifies a key the card already has: no first-certification check.
    await expect(issuance.record(ca, [newCardKey(spki, false)])).resolves.toHaveLength(1);
  });

  it('abandons what a final transaction that failed had recorded, after its rollback, and passes the error on', async () => {
    const [recorded] = await issuance.record(ca, [newCardKey(randomBytes(64))]);
    const refusal = new ProblemException('certificate-changed', 409, 'Conflict', 'the card changed');
    await expect(
      issuance.releaseOrAbandon([recorded], () =>
        ds.transaction(async (manager) => {
          await manager.query(`UPDATE certificate SET der = '\\x3000' WHERE id = $1`, [recorded.id]); // rolled back
          throw refusal;
        }),
      ),
    ).rejects.toBe(refusal);
    const [row] = await ds.query(`SELECT status, der FROM certificate WHERE id = $1`, [recorded.id]);
    expect(row).toEqual({ status: 'abandoned', der: null });
    const [audit] = await ds.query(`SELECT detail->>'why' AS why FROM audit_log WHERE operation = 'certificate.abandoned' AND subject_id LIKE '%' || $1 || '%'`, [recorded.id]);
    expect(audit.why).toContain('certificate-changed');
  });
});
