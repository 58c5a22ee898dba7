import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { cardLifetime, floorToSecond, formatCalendarDate, newCertificateValidity, taiwanCalendarDate } from '@moica/policy';
import { appendAudit } from '@moica/db';
import { Clock, ProblemException } from '@moica/platform';
import type { StaffPrincipal } from '../auth/principal';
import { CertificateIssuanceService, issuedCertificateViews } from '../certificates/certificate-issuance.service';
import { newCardOrders, parseNewCardRequests } from '../certificates/new-card-orders';
import { IssuingCaService } from '../certificates/issuing-ca.service';
import { SharedPrimeRepository } from '../certificates/shared-prime.repository';
import { notFound, refusalProblem } from '../common/refusals';
import { IdempotencyTicket } from '../idempotency/idempotency-claim';
import { IdempotencyRepository } from '../idempotency/idempotency.repository';
import { CertificateStatusPublisher } from '../lifecycle/certificate-status-publisher';
import { lockHolder } from '../lifecycle/card-certificates.repository';
import { partitionOf } from '../registration/application.service';
import { orderView } from './reissuance-order.service';
import { OrderRow, ReissuanceOrderRepository } from './reissuance-order.repository';

/** Paid orders per export to the card bureau. */
export const PRODUCTION_BATCH_LIMIT = 500;

/** One card to personalise, as the card bureau receives it. */
export interface PersonalisationRecord {
  orderId: string;
  orderNumber: string;
  /** Printed on the card (leaflet: 卡片上已印製申請人姓名及有效日期). */
  printedName: string;
  /** The certificates' notAfter: the validity date printed on the card. */
  cardValidUntil: string;
  /** The same, as printed (Taiwan date). */
  printedValidityDate: string;
  holderNumber: string;
  postalCode: string;
  address: string;
}

/**
 * The card bureau's side of online re-issuance (docs/reissuance.md):
 * export paid orders with the personalisation data (printed name and
 * validity date), issue the certificates of the bureau's returned CSRs (keys
 * generated on the new card) **on hold** (certificateHold) so a card lost in
 * the mail is useless until its holder activates it, and record shipping
 * and delivery. Callers are operators; every step is audited.
 */
@Injectable()
export class CardProductionService {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly orders: ReissuanceOrderRepository,
    private readonly issuingCas: IssuingCaService,
    private readonly issuance: CertificateIssuanceService,
    private readonly sharedPrimes: SharedPrimeRepository,
    private readonly publisher: CertificateStatusPublisher,
    private readonly idempotency: IdempotencyRepository,
  ) {}

  /** Moves every paid order (up to PRODUCTION_BATCH_LIMIT) into production and returns the bureau's file. */
  async exportBatch(principal: StaffPrincipal, ticket: IdempotencyTicket): Promise<{ batchId: string; exportedAt: string; orders: PersonalisationRecord[] }> {
    return this.dataSource.transaction(async (manager) => {
      const now = floorToSecond(this.clock.now());
      const paid: Array<OrderRow & { holder_number: string }> = await manager.query(
        `SELECT o.*, h.holder_number FROM reissuance_order o JOIN holder h ON h.id = o.holder_id
          WHERE o.state = 'paid' ORDER BY o.paid_at, o.id LIMIT $1 FOR UPDATE OF o SKIP LOCKED`,
        [PRODUCTION_BATCH_LIMIT],
      );
      if (paid.length === 0) throw new ProblemException('no-paid-orders', HttpStatus.CONFLICT, 'Nothing to produce', 'no paid re-issuance order awaits production');
      // The printed validity is the certificates' notAfter, counted from this export (CPS: 5 years from production).
      const validity = newCertificateValidity(now);
      if (!validity.allowed) throw refusalProblem(validity);
      const validUntil = validity.validity.notAfter;
      const batch: Array<{ id: string }> = await manager.query(
        `INSERT INTO reissuance_production_batch (exported_at, exported_by, order_count) VALUES ($1, $2, $3) RETURNING id`,
        [now, principal.staffId, paid.length],
      );
      const records: PersonalisationRecord[] = [];
      for (const order of paid) {
        await this.orders.transition(manager, order, 'start-production', now, actorOf(principal), {
          set: { production_batch_id: batch[0].id, card_valid_until: validUntil },
          detail: { batchId: batch[0].id },
        });
        records.push({
          orderId: order.id,
          orderNumber: order.order_number,
          printedName: order.printed_name ?? '',
          cardValidUntil: validUntil.toISOString(),
          printedValidityDate: formatCalendarDate(taiwanCalendarDate(validUntil)).replace(/-/g, '/'),
          holderNumber: order.holder_number,
          postalCode: order.postal_code ?? '',
          address: order.address ?? '',
        });
      }
      await appendAudit(manager, {
        at: now,
        actorKind: principal.role,
        actorId: principal.staffId,
        operation: 'reissuance.batch-exported',
        subjectKind: 'reissuance-production-batch',
        subjectId: batch[0].id,
        after: { orders: records.map((r) => r.orderNumber), cardValidUntil: validUntil.toISOString() },
      });
      const body = { batchId: batch[0].id, exportedAt: now.toISOString(), orders: records };
      await this.idempotency.completeInTransaction(manager, ticket, 201, body, now);
      return body;
    });
  }

  /**
   * The bureau returns the new card's number and its two PKCS#10 requests:
   * both certificates are issued on hold, valid to the printed date, by the
   * current issuing CA; the new card is recorded for the holder.
   */
  async issueCard(orderId: string, request: { cardNumber: string; csrs: { signature: string; encryption: string } }, principal: StaffPrincipal, ticket: IdempotencyTicket) {
    const snapshot = await this.dataSource.transaction((manager) => this.orders.lock(manager, { id: orderId }));
    if (!snapshot) throw notFound('reissuance-order-not-found', 'no such re-issuance order');
    assertAwaitsCard(snapshot);
    const taken: unknown[] = await this.dataSource.query(`SELECT 1 FROM card WHERE card_number = $1`, [request.cardNumber]);
    if (taken.length > 0) throw new ProblemException('card-number-in-use', HttpStatus.CONFLICT, 'Card number in use', 'this card number is already registered');
    const requests = parseNewCardRequests(request.csrs);
    const holder: Array<{ holder_number: string; national_id_last4: string }> = await this.dataSource.query(
      `SELECT holder_number, national_id_last4 FROM holder WHERE id = $1`,
      [snapshot.holder_id],
    );
    const now = floorToSecond(this.clock.now());
    const notAfter = snapshot.card_valid_until!;
    const ca = this.issuingCas.forNewCertificates();
    const orders = await newCardOrders(
      requests,
      {
        holderName: snapshot.printed_name ?? '',
        holderNumber: holder[0].holder_number,
        nationalIdLast4: holder[0].national_id_last4,
        notBefore: now,
        notAfter,
        crlPartition: partitionOf(request.cardNumber, ca.profile.crlPartitions),
      },
      { dataSource: this.dataSource, sharedPrimes: this.sharedPrimes },
    );
    // The new card's own 8-year cap counts from now; the printed date lies well inside it.
    const lifetime = cardLifetime(now);
    const prepared = orders.map((order) => ({ order, prepared: this.issuance.prepare(ca, order, lifetime.capLastSecond) }));
    const recorded = await this.issuance.record(ca, prepared);
    const issued = await this.issuance.sign(ca, recorded);

    return this.issuance.releaseOrAbandon(recorded, () => this.dataSource.transaction(async (manager) => {
      // Holder before order, as every other path takes them (a new order locks the holder, then the card's orders).
      await lockHolder(manager, { holderId: snapshot.holder_id });
      const order = await this.orders.lock(manager, { id: orderId });
      assertAwaitsCard(order!);
      // The card number may have been taken meanwhile (another order's card): nothing is released then.
      const card: Array<{ id: string }> = await manager.query(
        `INSERT INTO card (holder_id, card_number, issued_at, cap_at) VALUES ($1, $2, $3, $4) ON CONFLICT (card_number) DO NOTHING RETURNING id`,
        [order!.holder_id, request.cardNumber, now, lifetime.capEnd],
      );
      if (card.length === 0) {
        throw new ProblemException('card-number-in-use', HttpStatus.CONFLICT, 'Card number in use', 'this card number is already registered');
      }
      // On hold until the holder activates the card online: a card lost in the mail is useless.
      await this.issuance.complete(manager, recorded, issued, card[0].id, 'on_hold');
      await this.publisher.announce(manager, recorded.map((r) => r.id));
      await manager.query(`UPDATE reissuance_order SET new_card_id = $2, updated_at = $3 WHERE id = $1`, [order!.id, card[0].id, now]);
      const body = {
        order: orderView({ ...order!, new_card_id: card[0].id }),
        cardNumber: request.cardNumber,
        certificates: issuedCertificateViews(recorded, issued, 'on_hold'),
        chain: ca.chainPem,
      };
      await appendAudit(manager, {
        at: now,
        actorKind: principal.role,
        actorId: principal.staffId,
        operation: 'reissuance.card-issued',
        subjectKind: 'reissuance-order',
        subjectId: order!.order_number,
        after: { cardNumber: request.cardNumber, serials: body.certificates.map((c) => c.serial), status: 'on_hold', notAfter: notAfter.toISOString() },
      });
      await this.idempotency.completeInTransaction(manager, ticket, 201, body, now);
      return body;
    }));
  }

  async ship(orderId: string, trackingNumber: string, principal: StaffPrincipal, ticket: IdempotencyTicket) {
    return this.step(orderId, ticket, async (manager, order, now) => {
      if (!order.new_card_id) throw new ProblemException('card-not-issued', HttpStatus.CONFLICT, 'Card not issued', "the card's certificates are not issued yet");
      return this.orders.transition(manager, order, 'ship', now, actorOf(principal), { set: { tracking_number: trackingNumber, shipped_at: now } });
    });
  }

  async deliver(orderId: string, principal: StaffPrincipal, ticket: IdempotencyTicket) {
    return this.step(orderId, ticket, (manager, order, now) => this.orders.transition(manager, order, 'deliver', now, actorOf(principal), { set: { delivered_at: now } }));
  }

  private async step(orderId: string, ticket: IdempotencyTicket, change: (manager: EntityManager, order: OrderRow, now: Date) => Promise<OrderRow>) {
    return this.dataSource.transaction(async (manager) => {
      const now = floorToSecond(this.clock.now());
      const order = await this.orders.lock(manager, { id: orderId });
      if (!order) throw notFound('reissuance-order-not-found', 'no such re-issuance order');
      const view = orderView(await change(manager, order, now));
      await this.idempotency.completeInTransaction(manager, ticket, 200, view, now);
      return view;
    });
  }
}

function assertAwaitsCard(order: OrderRow): void {
  if (order.state !== 'in_production') {
    throw new ProblemException('order-state-conflict', HttpStatus.CONFLICT, 'Order not in production', `the order is ${order.state}`);
  }
  if (order.new_card_id) throw new ProblemException('card-already-issued', HttpStatus.CONFLICT, 'Card already issued', "this order's card is already issued");
}

function actorOf(principal: StaffPrincipal) {
  return { kind: principal.role, id: principal.staffId, officeId: principal.officeId };
}
