import { HttpStatus, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import {
  CertificateKind,
  CertificateLintError,
  CheckedPublicKey,
  encodeCrlEntry,
  IssuanceError,
  IssuanceRequest,
  IssuedCertificate,
  issueCertificate,
  PreparedCertificate,
  prepareCertificate,
  serialIntegerContent,
} from '@moica/pki';
import { AppConfig, Clock, ProblemException } from '@moica/platform';
import { APP_CONFIG } from '../tokens';
import { pkiProblem } from '../common/refusals';
import { IssuingCa } from './issuing-ca.service';
import { abandonPendingCertificates, abandonPendingLeftovers, PENDING_LEFTOVER_SECONDS } from './pending-certificate.repository';
import { SharedPrimeRepository } from './shared-prime.repository';
import { lockHolder } from '../lifecycle/card-certificates.repository';

/** A certificate to issue: what libs/pki needs plus where it belongs. */
export interface CertificateOrder {
  request: IssuanceRequest;
  cardId?: string;
  renewedFromId?: string;
  /**
   * The key is certified for the first time (a new card): `record` refuses it
   * when any certificate, issued or still being issued, already has it. The
   * key-quality check before signing cannot see a concurrent issuance.
   */
  firstCertification?: boolean;
}

export interface RecordedCertificate {
  id: string;
  order: CertificateOrder;
  prepared: PreparedCertificate;
}

/** What an API answer shows of each certificate just issued (counter application, renewal, card re-issued by mail). */
export interface IssuedCertificateView {
  kind: CertificateKind;
  serial: string;
  notBefore: string;
  notAfter: string;
  pem: string;
}

/** The answer's view of `issued[i]`, recorded as `recorded[i]`, with the status when the answer states one. */
export function issuedCertificateViews(recorded: RecordedCertificate[], issued: IssuedCertificate[]): IssuedCertificateView[];
export function issuedCertificateViews<S extends 'valid' | 'on_hold'>(
  recorded: RecordedCertificate[],
  issued: IssuedCertificate[],
  status: S,
): (IssuedCertificateView & { status: S })[];
export function issuedCertificateViews(recorded: RecordedCertificate[], issued: IssuedCertificate[], status?: string): IssuedCertificateView[] {
  return issued.map((certificate, i) => ({
    kind: recorded[i].prepared.kind,
    serial: certificate.serial.hex,
    notBefore: certificate.notBefore.toISOString(),
    notAfter: certificate.notAfter.toISOString(),
    ...(status ? { status } : {}),
    pem: certificate.pem,
  }));
}

/**
 * Issuance in the Boulder order, with the database first:
 *   1. prepare + lint every certificate (libs/pki), nothing signed;
 *   2. record serial and TBS as 'pending' and commit (never sign what was not recorded first);
 *   3. sign each, once; libs/pki checks the signed TBS is the linted one;
 *   4. the caller's transaction stores the DER and makes them valid.
 * A crash between 2 and 4 leaves 'pending' rows: once older than
 * PENDING_LEFTOVER_SECONDS they become 'abandoned', at a ca-api start and by
 * the worker's pending-leftover-sweep job — the signature, if any was made,
 * never left the crashed process, so no certificate exists that the database
 * does not know, and the serial is never reused. An issuance that outlives
 * that age finds its rows abandoned in step 4 and answers 503 without them.
 */
@Injectable()
export class CertificateIssuanceService implements OnApplicationBootstrap {
  private readonly logger = new Logger(CertificateIssuanceService.name);

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly sharedPrimes: SharedPrimeRepository,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // Only leftovers: a younger pending row may be another instance's issuance in flight (rolling restart).
    await this.abandonLeftovers();
  }

  /** Step 1: prepare and lint. A refusal becomes a 422 naming the rule. */
  prepare(ca: IssuingCa, order: CertificateOrder, validityCap: Date): PreparedCertificate {
    try {
      return prepareCertificate(order.request, ca.profile, ca.issuer, { validityCap });
    } catch (error) {
      if (error instanceof CertificateLintError) {
        throw pkiProblem('certificate-lint-failed', error.detail, { failures: error.failures });
      }
      if (error instanceof IssuanceError) throw pkiProblem(error.code, error.detail);
      throw error;
    }
  }

  /** Step 2: records the prepared certificates as pending, in their own committed transaction. */
  async record(ca: IssuingCa, orders: Array<{ order: CertificateOrder; prepared: PreparedCertificate }>): Promise<RecordedCertificate[]> {
    const now = this.clock.now();
    const recorded = await this.dataSource.transaction(async (manager) => {
      await this.refuseKeysInUse(manager, orders);
      const recorded: RecordedCertificate[] = [];
      for (const { order, prepared } of orders) {
        const rows: Array<{ id: string }> = await manager.query(
          `INSERT INTO certificate (ca_id, card_id, serial, kind, status, not_before, not_after, tbs_der, spki_sha256,
                                    crl_partition, renewed_from_id, email_in_certificate, status_changed_at, created_at)
           VALUES ($1, NULL, $2, $3, 'pending', $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id`,
          [
            ca.id,
            Buffer.from(serialIntegerContent(prepared.serial.value)),
            prepared.kind,
            prepared.notBefore,
            prepared.notAfter,
            Buffer.from(prepared.tbsDer),
            createHash('sha256').update(prepared.subjectPublicKeySpki).digest(),
            order.request.crlPartition,
            order.renewedFromId ?? null,
            order.request.email ?? null,
            now,
          ],
        );
        recorded.push({ id: rows[0].id, order, prepared });
      }
      return recorded;
    });
    const stall = /^stall-after-record=(\d+)$/.exec(this.config.FAULT_INJECTION ?? '');
    if (stall) await new Promise((resolve) => setTimeout(resolve, Number(stall[1]) * 1000));
    return recorded;
  }

  /**
   * A key certified for the first time must be in no other certificate, not
   * even one being issued right now: a lock per key (held until this
   * transaction commits its pending rows), then a look at every certificate
   * but abandoned ones. Two applications racing with one key: the second
   * waits, sees the first one's pending row and gets 422 key-already-in-use.
   */
  private async refuseKeysInUse(manager: EntityManager, orders: Array<{ order: CertificateOrder; prepared: PreparedCertificate }>): Promise<void> {
    const keys = orders
      .filter(({ order }) => order.firstCertification)
      .map(({ prepared }) => createHash('sha256').update(prepared.subjectPublicKeySpki).digest())
      .sort(Buffer.compare); // one lock order for every transaction
    for (const key of keys) {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended('moica-spki:' || encode($1::bytea, 'hex'), 0))`, [key]);
    }
    for (const key of keys) {
      const rows: unknown[] = await manager.query(`SELECT 1 FROM certificate WHERE spki_sha256 = $1 AND status <> 'abandoned' LIMIT 1`, [key]);
      if (rows.length > 0) throw pkiProblem('key-already-in-use', 'this public key is already certified, or being certified by another request');
    }
  }

  /** Step 3: signs each recorded certificate once. On failure the pending rows are abandoned and nothing is returned. */
  async sign(ca: IssuingCa, recorded: RecordedCertificate[]): Promise<IssuedCertificate[]> {
    try {
      const issued: IssuedCertificate[] = [];
      for (const certificate of recorded) issued.push(await issueCertificate(certificate.prepared, ca.signer));
      return issued;
    } catch (error) {
      await this.abandonRecorded(recorded.map((r) => r.id), error instanceof Error ? error.message : String(error));
      this.logger.error({ err: error, ca: ca.name }, 'signing failed; pending certificates abandoned');
      throw new ProblemException(
        'signing-failed',
        HttpStatus.SERVICE_UNAVAILABLE,
        'Signing failed',
        'the CA key could not sign; nothing was issued. Retry later.',
      );
    }
  }

  /**
   * Step 4, inside the caller's transaction: store the signed DER and make
   * the certificates valid (or on hold), attach them to the card, and add
   * RSA moduli to the shared-prime index.
   */
  async complete(
    manager: EntityManager,
    recorded: RecordedCertificate[],
    issued: IssuedCertificate[],
    cardId: string,
    status: 'valid' | 'on_hold',
  ): Promise<void> {
    const now = this.clock.now();
    // A status change of this holder's certificates waits for this one to commit, then sees the new certificates.
    await lockHolder(manager, { cardId });
    for (let i = 0; i < recorded.length; i++) {
      // docs/crl.md: a certificate issued on hold is listed (certificateHold) from its issuance, with its entry DER.
      const entry =
        status === 'on_hold'
          ? Buffer.from(encodeCrlEntry({ serial: recorded[i].prepared.serial.value, revokedAt: now, reason: 'certificateHold' }))
          : null;
      const [, affected]: [unknown, number] = await manager.query(
        `UPDATE certificate SET der = $2, card_id = $3, status = $4, status_changed_at = $5,
                revoked_at = CASE WHEN $4 = 'on_hold' THEN $5::timestamptz END,
                revocation_reason = CASE WHEN $4 = 'on_hold' THEN 6 END,
                crl_entry_der = $6
          WHERE id = $1 AND status = 'pending'`,
        [recorded[i].id, Buffer.from(issued[i].der), cardId, status, now, entry],
      );
      if (affected !== 1) {
        // Abandoned as a leftover while this request was signing: the transaction rolls back, so the
        // signature made is stored nowhere and returned to no one; the serial stays abandoned.
        this.logger.warn({ certificateId: recorded[i].id }, 'certificate abandoned before its issuance completed; its signature is discarded');
        throw new ProblemException(
          'issuance-abandoned',
          HttpStatus.SERVICE_UNAVAILABLE,
          'Issuance abandoned',
          `issuance took more than ${PENDING_LEFTOVER_SECONDS} s, so its recorded certificates were abandoned; nothing was issued. Retry with the same Idempotency-Key.`,
        );
      }
      await manager.query(
        `INSERT INTO certificate_status_event (certificate_id, from_status, to_status, at, actor_kind, detail)
         VALUES ($1, 'pending', $2, $3, 'system', '{}')`,
        [recorded[i].id, status, now],
      );
    }
    const moduli = recorded
      .filter((r) => !r.prepared.renewal)
      .map((r) => r.order.request.publicKey)
      .filter((key: CheckedPublicKey) => key.key.kind === 'RSA')
      .map((key) => (key.key as { modulus: bigint }).modulus);
    if (moduli.length > 0) await this.sharedPrimes.add(manager, moduli);
  }

  /** Abandons the certificates left pending for more than PENDING_LEFTOVER_SECONDS, with one audit record; returns how many. */
  async abandonLeftovers(): Promise<number> {
    const now = this.clock.now();
    const abandoned = await this.dataSource.transaction((manager) => abandonPendingLeftovers(manager, now));
    if (abandoned.length > 0) this.logger.warn({ count: abandoned.length }, 'abandoned pending certificates left by an interrupted issuance');
    return abandoned.length;
  }

  /**
   * Step 4 with its way out: runs `finish` (the caller's final transaction,
   * which calls `complete`); when it throws, that transaction has rolled back
   * and the signed certificates were never released, so they are abandoned
   * (in a transaction of their own, after the rollback: abandoning inside
   * the caller's transaction would wait for the audit chain on a second
   * connection while holding its row locks), and the error goes on.
   */
  async releaseOrAbandon<T>(recorded: RecordedCertificate[], finish: () => Promise<T>): Promise<T> {
    try {
      return await finish();
    } catch (error) {
      const why = error instanceof ProblemException ? `${error.code}: ${error.detail ?? ''}` : error instanceof Error ? error.message : String(error);
      await this.abandonRecorded(
        recorded.map((r) => r.id),
        `the issuance did not complete (${why})`,
      ).catch((failure: unknown) => this.logger.error({ err: failure }, 'abandoning pending certificates failed; the sweep will'));
      throw error;
    }
  }

  /** Abandons these pending certificates (never signed, or signed and never released), with one audit record. */
  async abandonRecorded(ids: string[], why: string): Promise<void> {
    const now = this.clock.now();
    await this.dataSource.transaction((manager) => abandonPendingCertificates(manager, ids, now, why));
  }
}
