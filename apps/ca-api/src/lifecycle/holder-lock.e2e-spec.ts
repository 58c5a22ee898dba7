import { randomBytes, randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { createDataSource } from '../../../../db/data-source';
import { createTestDatabase } from '../../../../test/support/database';
import { Pool } from 'pg';
import { prepareJobQueue } from '../notifications/job-queue';
import { CertificateIssuanceService, type RecordedCertificate } from '../certificates/certificate-issuance.service';
import { CardCertificatesRepository } from './card-certificates.repository';
import { CertificateStatusPublisher } from './certificate-status-publisher';
import { LifecycleService } from './lifecycle.service';
import { UserCodeCheckService } from './user-code-check.service';

/**
 * A status change racing a transaction that makes a pending certificate of
 * the same holder valid (renewal, e-mail certificate, a new card) must see
 * that certificate: every such transaction locks the holder row first, so
 * the status change waits for the commit and then reads the new state.
 * Without the holder lock, `FOR UPDATE ... WHERE status IN (...)` under READ
 * COMMITTED skipped the row that was still pending when it started, and a
 * revocation left the new certificate valid.
 */
describe('status changes and issuance of one holder serialise on the holder row (real PostgreSQL)', () => {
  let db: { url: string; drop(): Promise<void> };
  let ds: DataSource;
  let caId: string;
  const clock = { now: () => new Date() };
  const certificates = new CardCertificatesRepository();
  const publisher = new CertificateStatusPublisher();

  beforeAll(async () => {
    db = await createTestDatabase();
    ds = await createDataSource(db.url, 'holder-lock-test').initialize();
    const pool = new Pool({ connectionString: db.url });
    pool.on('error', () => undefined);
    await prepareJobQueue(pool); // status changes enqueue OCSP re-signing and notices
    await pool.end();
    const spki = randomBytes(20);
    [{ id: caId }] = await ds.query(
      `INSERT INTO certificate_authority (name, role, subject_dn, certificate_der, key_location, key_algorithm, spki_sha1, spki_sha256,
                                         subject_sha1, subject_sha256, not_before, not_after)
       VALUES ('holder-lock-ca', 'issuing', 'CN=t', $1, 'software:/x', 'EC', $1, $1, $1, $1, now() - interval '1 year', now() + interval '10 years')
       RETURNING id`,
      [spki],
    );
  });
  afterAll(async () => {
    await ds?.destroy();
    await db.drop();
  });

  async function holderWithCard(): Promise<{ holderId: string; addCard(): Promise<{ cardId: string; cardNumber: string }> }> {
    const holderId = randomUUID();
    await ds.query(
      `INSERT INTO holder (id, holder_number, name, national_id_ciphertext, national_id_hmac, national_id_last4, date_of_birth, mobile, contact_email, user_code_hash)
       VALUES ($1, $2, 'n', $3, $4, '1234', '1980-01-01', '0912345678', 'a@example.tw', 'x')`,
      [holderId, String(1e15 + Math.floor(Math.random() * 8e15)), randomBytes(8), randomBytes(32)],
    );
    return {
      holderId,
      async addCard() {
        const cardNumber = `HL${randomBytes(5).toString('hex').toUpperCase()}`;
        const [{ id: cardId }] = await ds.query(
          `INSERT INTO card (holder_id, card_number, issued_at, cap_at) VALUES ($1, $2, now() - interval '1 year', now() + interval '7 years') RETURNING id`,
          [holderId, cardNumber],
        );
        return { cardId, cardNumber };
      },
    };
  }

  async function certificate(cardId: string | null, kind: 'signature' | 'encryption', status: 'valid' | 'pending'): Promise<string> {
    const [{ id }] = await ds.query(
      `INSERT INTO certificate (ca_id, card_id, serial, kind, status, not_before, not_after, tbs_der, der, spki_sha256, crl_partition)
       VALUES ($1, $2, $3, $4, $5, now() - interval '1 year', now() + interval '4 years', '\\x00',
               CASE WHEN $5 = 'pending' THEN NULL ELSE '\\x30'::bytea END, $6, 0) RETURNING id`,
      [caId, status === 'pending' ? null : cardId, randomBytes(16), kind, status, randomBytes(32)],
    );
    return id;
  }

  /** What every issuance does last, in its own transaction: the pending certificate becomes the card's, valid. */
  function completing(id: string, cardId: string, whileOpen: (manager: EntityManager) => Promise<void>): Promise<void> {
    const issuance = new CertificateIssuanceService(ds, null as never, clock as never, {} as never);
    const recorded = [{ id, order: {}, prepared: { renewal: true, serial: { value: 1n } } }] as unknown as RecordedCertificate[];
    return ds.transaction(async (manager) => {
      await issuance.complete(manager, recorded, [{ der: Uint8Array.of(0x30, 0x00) }] as never, cardId, 'valid');
      await whileOpen(manager);
    });
  }

  const statuses = async (ids: Record<string, string>) =>
    Object.fromEntries(
      await Promise.all(Object.entries(ids).map(async ([name, id]) => [name, (await ds.query(`SELECT status FROM certificate WHERE id = $1`, [id]))[0].status])),
    );

  it('revokes the certificate that became valid while the revocation waited', async () => {
    const holder = await holderWithCard();
    const { cardId, cardNumber } = await holder.addCard();
    const ids = { old: await certificate(cardId, 'signature', 'valid'), encryption: await certificate(cardId, 'encryption', 'valid') };
    const renewed = await certificate(null, 'signature', 'pending');
    const lifecycle = new LifecycleService(ds, clock as never, certificates, publisher, null as never, null as never);
    let revocation: ReturnType<LifecycleService['change']> | undefined;
    await completing(renewed, cardId, async () => {
      revocation = lifecycle.change({
        cardNumber,
        event: { kind: 'revoke', reason: 'keyCompromise' },
        channel: 'holder-in-person',
        actor: { kind: 'clerk', id: null, officeId: null },
      });
      revocation.catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 300)); // the revocation is now waiting, or (before the fix) done
    });
    const answer = await revocation!;
    expect(answer.certificates).toHaveLength(3);
    expect(await statuses({ ...ids, renewed })).toEqual({ old: 'revoked', encryption: 'revoked', renewed: 'revoked' });
  });

  it('supersedes the certificates a new card made valid while the other card was being issued', async () => {
    const holder = await holderWithCard();
    const first = await holder.addCard();
    const second = await holder.addCard();
    const old = await certificate(first.cardId, 'signature', 'valid');
    const renewedOnFirst = await certificate(null, 'signature', 'pending');
    let superseding: Promise<string[]> | undefined;
    await completing(renewedOnFirst, first.cardId, async () => {
      superseding = ds.transaction((manager) => publisher.supersedeOtherCards(manager, holder.holderId, second.cardId, new Date()));
      superseding.catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 300));
    });
    expect(await superseding!).toHaveLength(2);
    expect(await statuses({ old, renewedOnFirst })).toEqual({ old: 'revoked', renewedOnFirst: 'revoked' });
  });

  it('lets a status change of a card go on while a user-code check holds that card (its notice insert needs only KEY SHARE)', async () => {
    // A user-code check with a national ID that is not the card's holder's locks the card, and not the holder,
    // for the length of the hash comparison. A change of the card inserts a notice referencing the card: with
    // FOR UPDATE on the card that insert waited for the check, and a household event already holding the audit
    // chain (after revoking another card) then deadlocked with the check's own audit record.
    const holder = await holderWithCard();
    const { cardId, cardNumber } = await holder.addCard();
    await certificate(cardId, 'signature', 'valid');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let hashing!: () => void;
    const started = new Promise<void>((resolve) => (hashing = resolve));
    const hasher = {
      verify: async () => {
        hashing();
        await gate; // the check's transaction holds the card row meanwhile
        return false;
      },
      placeholderHash: async () => 'placeholder',
    };
    const vault = { lookupHash: () => randomBytes(32) };
    const check = new UserCodeCheckService(ds, clock as never, vault as never, hasher as never);
    const checking = check.verify('A123456789', cardNumber, 'Wrong#123', '127.0.0.1').catch((refusal: unknown) => refusal);
    await started;
    const lifecycle = new LifecycleService(ds, clock as never, certificates, publisher, null as never, null as never);
    const suspension = lifecycle.change({
      cardNumber,
      event: { kind: 'suspend' },
      channel: 'holder-in-person',
      actor: { kind: 'clerk', id: null, officeId: null },
    });
    const outcome = await Promise.race([suspension.then(() => 'done'), new Promise((resolve) => setTimeout(() => resolve('waiting'), 2000))]);
    release();
    expect(outcome).toBe('done');
    expect(await checking).toMatchObject({ code: 'user-code-incorrect' });
    await suspension;
  });
});
