import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { cardLifetime, Channel, decideRenewal, floorToSecond } from '@moica/policy';
import {
  CertificateKind,
  checkRenewalKeyQuality,
  IssuanceError,
  renewalRequest,
} from '@moica/pki';
import { appendAudit } from '@moica/db';
import { Clock, ProblemException } from '@moica/platform';
import { CertificateIssuanceService, CertificateOrder, issuedCertificateViews } from '../certificates/certificate-issuance.service';
import { parseCardRequest } from '../certificates/card-request';
import { IssuingCaService } from '../certificates/issuing-ca.service';
import { notFound, pkiProblem, refusalProblem } from '../common/refusals';
import { IdempotencyTicket } from '../idempotency/idempotency-claim';
import { IdempotencyRepository } from '../idempotency/idempotency.repository';
import { CardCertificatesRepository, LockedCertificate } from '../lifecycle/card-certificates.repository';
import { CertificateStatusPublisher } from '../lifecycle/certificate-status-publisher';
import { DelegationRecord, LifecycleActor } from '../lifecycle/lifecycle.service';
import { enqueueNotice } from '../notifications/enqueue-notice';
import { CardSignatureProof, CardSignatureService } from './card-signature.service';

export interface RenewalResult {
  cardNumber: string;
  certificates: Array<{ kind: string; serial: string; notBefore: string; notAfter: string; pem: string }>;
  superseded: string[];
  chain: string[];
}

/**
 * Renewal (展期, DOMAIN.md): the same card keys, a new certificate of each
 * kind valid until the card's 8-year cap, from 60 days before the 5-year
 * expiry to 3 years after it; at the counter (holder or delegate with the
 * card) or online (card signature). The card proves it still holds the keys
 * with two new PKCS#10 requests. The old certificates are superseded when
 * the new ones are stored.
 */
@Injectable()
export class RenewalService {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly issuingCas: IssuingCaService,
    private readonly issuance: CertificateIssuanceService,
    private readonly certificates: CardCertificatesRepository,
    private readonly publisher: CertificateStatusPublisher,
    private readonly idempotency: IdempotencyRepository,
    private readonly cardSignatures: CardSignatureService,
  ) {}

  async renew(request: {
    cardNumber: string;
    csrs: { signature: string; encryption: string };
    channel: Channel;
    actor: LifecycleActor;
    delegation?: DelegationRecord;
    /** Online: the card's signature over a challenge, reserved before signing and used up in the final transaction. */
    cardSignature?: CardSignatureProof;
    ticket: IdempotencyTicket;
  }): Promise<RenewalResult> {
    const now = floorToSecond(this.clock.now());
    const current = await this.dataSource.transaction((manager) => this.certificates.lockByCardNumber(manager, request.cardNumber));
    const byKind = this.currentGeneration(current);

    const orders: Array<{ kind: CertificateKind; order: CertificateOrder; previous: LockedCertificate }> = [];
    for (const kind of ['signature', 'encryption'] as const) {
      const previous = byKind.get(kind);
      if (!previous) throw notFound('certificate-not-found', `the card has no ${kind} certificate to renew`);
      const decision = decideRenewal(previous.facts, request.channel, now);
      if (!decision.allowed) throw refusalProblem(decision);
      const csr = parseCardRequest(request.csrs[kind], kind);
      const der = await this.derOf(previous.id);
      const quality = checkRenewalKeyQuality(csr.publicKey);
      if (!quality.ok) throw pkiProblem(quality.code, `${kind} key: ${quality.detail}`);
      try {
        const issuance = renewalRequest(der, quality.checked, {
          notBefore: decision.validity.notBefore,
          notAfter: decision.validity.notAfter,
          crlPartition: await this.partitionOf(previous.id),
        });
        orders.push({ kind, previous, order: { request: issuance, renewedFromId: previous.id } });
      } catch (error) {
        if (error instanceof IssuanceError) throw pkiProblem(error.code === 'renewal-mismatch' ? 'renewal-key-mismatch' : error.code, error.detail);
        throw error;
      }
    }
    const caId = await this.caOf(orders[0].previous.id);
    const ca = this.issuingCas.byId(caId);
    // DOMAIN.md hard cap: nothing of this card is valid past issuedAt + 8 years.
    const cap = cardLifetime(orders[0].previous.facts.cardIssuedAt).capLastSecond;
    const prepared = orders.map(({ order }) => ({ order, prepared: this.issuance.prepare(ca, order, cap) }));
    // One challenge, one signing: a request with another Idempotency-Key is refused here, before it
    // records or signs anything. The retry that took this key's claim over may go on (the request it
    // replaced cannot commit); the challenge is used up in the final transaction, with the renewal.
    if (request.cardSignature) await this.cardSignatures.reserve(request.cardSignature, request.ticket);
    const recorded = await this.issuance.record(ca, prepared);
    const issued = await this.issuance.sign(ca, recorded);

    return this.issuance.releaseOrAbandon(recorded, () => this.dataSource.transaction(async (manager) => {
      if (request.cardSignature) await this.cardSignatures.useUp(manager, request.cardSignature, request.ticket);
      // The card may have changed while signing (suspended, revoked): decide again on the locked rows.
      const locked = this.currentGeneration(await this.certificates.lockByCardNumber(manager, request.cardNumber));
      for (const { kind, previous: renewed } of orders) {
        const previous = locked.get(kind);
        const decision = previous ? decideRenewal(previous.facts, request.channel, now) : undefined;
        if (!decision?.allowed) {
          throw decision ? refusalProblem(decision) : new ProblemException('certificate-not-found', HttpStatus.CONFLICT, 'Conflict', 'the card changed');
        }
        if (previous!.id !== renewed.id) {
          // Another certificate became current meanwhile (an e-mail certificate, another renewal):
          // what was signed renews a certificate that is no longer the card's.
          throw new ProblemException('certificate-changed', HttpStatus.CONFLICT, 'Conflict', `the card's ${kind} certificate changed while the renewal was being signed; renew again`);
        }
      }
      await this.issuance.complete(manager, recorded, issued, orders[0].previous.cardId, 'valid');
      const previous = orders.map((o) => locked.get(o.kind)!);
      await this.publisher.apply(manager, previous, { to: 'revoked', reason: 'superseded', suspendedBy: null }, now, {
        kind: 'system',
        detail: { renewedBy: recorded.map((r) => r.id) },
      });
      await this.publisher.announce(manager, recorded.map((r) => r.id));
      await enqueueNotice(manager, {
        kind: 'certificate-issued',
        holderId: previous[0].holderId,
        certificateId: recorded[0].id,
        eventKey: `renewal:${recorded[0].id}`,
        occurredAt: now,
      });
      const result: RenewalResult = {
        cardNumber: request.cardNumber,
        certificates: issuedCertificateViews(recorded, issued),
        superseded: previous.map((p) => p.serial.toString('hex')),
        chain: ca.chainPem,
      };
      await appendAudit(manager, {
        at: now,
        actorKind: request.actor.kind,
        actorId: request.actor.id,
        officeId: request.actor.officeId,
        operation: 'certificate.renewal',
        subjectKind: 'card',
        subjectId: request.cardNumber,
        delegate: request.delegation
          ? { name: request.delegation.delegateName, formReference: request.delegation.formReference, holderCardPresented: request.delegation.holderCardPresented }
          : null,
        before: { serials: result.superseded },
        after: { serials: result.certificates.map((c) => c.serial), notAfter: result.certificates[0].notAfter, channel: request.channel },
      });
      await this.idempotency.completeInTransaction(manager, request.ticket, 201, result, now);
      return result;
    }));
  }

  /** The newest certificate of each kind that is not revoked (renewal acts on the card's current generation). */
  private currentGeneration(rows: LockedCertificate[]): Map<string, LockedCertificate> {
    const byKind = new Map<string, LockedCertificate>();
    for (const row of rows) {
      const seen = byKind.get(row.kind);
      if (!seen || row.facts.notAfter > seen.facts.notAfter || (seen.status === 'revoked' && row.status !== 'revoked')) byKind.set(row.kind, row);
    }
    return byKind;
  }

  private async derOf(id: string): Promise<Uint8Array> {
    const rows: Array<{ der: Buffer }> = await this.dataSource.query(`SELECT der FROM certificate WHERE id = $1`, [id]);
    return new Uint8Array(rows[0].der);
  }

  private async partitionOf(id: string): Promise<number> {
    const rows: Array<{ crl_partition: number }> = await this.dataSource.query(`SELECT crl_partition FROM certificate WHERE id = $1`, [id]);
    return rows[0].crl_partition;
  }

  private async caOf(id: string): Promise<string> {
    const rows: Array<{ ca_id: string }> = await this.dataSource.query(`SELECT ca_id FROM certificate WHERE id = $1`, [id]);
    return rows[0].ca_id;
  }
}
