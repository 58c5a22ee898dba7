import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { decideTransition, floorToSecond } from '@moica/policy';
import { appendAudit } from '@moica/db';
import { Clock, ProblemException } from '@moica/platform';
import { notFound, refusalProblem } from '../common/refusals';
import { IdempotencyTicket } from '../idempotency/idempotency-claim';
import { IdempotencyRepository } from '../idempotency/idempotency.repository';
import { CardCertificatesRepository } from '../lifecycle/card-certificates.repository';
import { CertificateStatusPublisher } from '../lifecycle/certificate-status-publisher';
import { enqueueNotice } from '../notifications/enqueue-notice';
import { CardSignatureProof, CardSignatureService } from '../online/card-signature.service';
import { ReissuanceOrderRepository } from './reissuance-order.repository';

export interface ActivationResult {
  orderNumber: string;
  cardNumber: string;
  activated: Array<{ kind: string; serial: string; status: 'valid' }>;
  superseded: string[];
}

/**
 * Online activation (開卡) of a re-issued card, in one transaction: the new
 * card's certificates leave certificateHold (removeFromCRL in the next delta
 * CRL, OCSP good: RFC 5280 §5.3.1), the holder's other cards' live
 * certificates are revoked as superseded, the order becomes activated.
 * The caller has already proven possession of the new card (a signature
 * over a challenge) and given the user code for it.
 */
@Injectable()
export class CardActivationService {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly orders: ReissuanceOrderRepository,
    private readonly certificates: CardCertificatesRepository,
    private readonly publisher: CertificateStatusPublisher,
    private readonly idempotency: IdempotencyRepository,
    private readonly cardSignatures: CardSignatureService,
  ) {}

  async activate(proof: CardSignatureProof, userCodeHolderId: string, ticket: IdempotencyTicket): Promise<ActivationResult> {
    if (userCodeHolderId !== proof.holderId) {
      throw new ProblemException('card-not-holders', HttpStatus.FORBIDDEN, "Not the holder's card", 'this card does not belong to this holder');
    }
    return this.dataSource.transaction(async (manager) => {
      // The new card's challenge is used up with the activation, first (before the card's locks): see CardSignatureService.useUp.
      await this.cardSignatures.useUp(manager, proof, ticket);
      const now = floorToSecond(this.clock.now());
      const locked = await this.certificates.lockByCardNumber(manager, proof.cardNumber);
      const cardId = locked[0]?.cardId;
      const order = cardId ? await this.orders.lock(manager, { newCardId: cardId }) : null;
      if (!order || order.holder_id !== proof.holderId) {
        throw notFound('reissuance-order-not-found', 'this card was not produced by an online re-issuance order');
      }
      const held = locked.filter((certificate) => certificate.status !== 'revoked');
      for (const certificate of held) {
        const decision = decideTransition(certificate.facts, { kind: 'activate' }, 'online-card-signature', now);
        if (!decision.allowed) throw refusalProblem(decision);
      }
      // DOMAIN.md: the new card replaces the old one; its certificates are revoked as superseded.
      // Every row lock is taken before the first audit record: an append holds the audit chain
      // until commit, and waiting for a row lock while holding it can deadlock with a writer
      // that holds the row and waits to append.
      const superseded = await this.publisher.supersedeOtherCards(manager, proof.holderId, cardId!, now);
      await this.publisher.apply(manager, held, { to: 'valid', reason: 'removeFromCRL', suspendedBy: null }, now, {
        kind: 'holder',
        id: proof.holderId,
        detail: { activation: order.order_number },
      });
      const moved = await this.orders.transition(manager, order, 'activate', now, { kind: 'holder', id: proof.holderId }, { set: { activated_at: now } });
      await enqueueNotice(manager, {
        kind: 'certificate-issued',
        holderId: proof.holderId,
        certificateId: held[0].id,
        eventKey: `reissuance-activated:${order.id}`,
        occurredAt: now,
      });
      const result: ActivationResult = {
        orderNumber: moved.order_number,
        cardNumber: proof.cardNumber,
        activated: held.map((c) => ({ kind: c.kind, serial: c.serial.toString('hex'), status: 'valid' })),
        superseded,
      };
      await appendAudit(manager, {
        at: now,
        actorKind: 'holder',
        actorId: proof.holderId,
        operation: 'certificate.activate',
        subjectKind: 'card',
        subjectId: proof.cardNumber,
        before: { status: 'on_hold', serials: result.activated.map((c) => c.serial) },
        after: { status: 'valid', supersededSerials: superseded, order: moved.order_number },
      });
      await this.idempotency.completeInTransaction(manager, ticket, 200, result, now);
      return result;
    });
  }
}
