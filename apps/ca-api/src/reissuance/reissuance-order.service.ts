import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  decideOnlineReissuance,
  deliveryArea,
  floorToSecond,
  paymentDeadline,
  refundPolicy,
  REISSUANCE_FEE_NTD,
  REISSUANCE_PAYMENT_ATTEMPTS,
} from '@moica/policy';
import { Clock, ProblemException } from '@moica/platform';
import { notFound, refusalProblem } from '../common/refusals';
import { IdempotencyTicket } from '../idempotency/idempotency-claim';
import { IdempotencyRepository } from '../idempotency/idempotency.repository';
import { CardCertificatesRepository, LockedCertificate } from '../lifecycle/card-certificates.repository';
import { CardSignatureProof, CardSignatureService } from '../online/card-signature.service';
import { PAYMENT_GATEWAY } from './payment/payment-gateway-from-config';
import { PaymentGateway, PaymentMethod } from './payment/payment-gateway';
import { CheckoutFormDto, ReissuanceOrderDto } from './reissuance.dto';
import { expireOverdueOrders, gatewayTradeNumber, OrderRow, ReissuanceOrderRepository } from './reissuance-order.repository';

/** What the API tells the holder about refunds (leaflet 寄送卡片: 故繳費製卡完成後即無法退費). */
export const REFUND_POLICY_TEXT =
  'The card is personalised with your name and validity date: once paid and in production the order cannot be cancelled or refunded (繳費製卡完成後即無法退費). A paid order cancelled before production is refunded.';

/**
 * The holder's side of online re-issuance (線上換發, docs/reissuance.md):
 * ordering with the old card's signature (libs/policy decides eligibility),
 * choosing ATM transfer or credit card at the payment gateway, cancelling
 * before production, and orders that pass their payment deadline unpaid.
 * Each step is one transaction with its audit record.
 */
@Injectable()
export class ReissuanceOrderService {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly orders: ReissuanceOrderRepository,
    private readonly certificates: CardCertificatesRepository,
    private readonly idempotency: IdempotencyRepository,
    @Inject(PAYMENT_GATEWAY) private readonly gateway: PaymentGateway,
    private readonly cardSignatures: CardSignatureService,
  ) {}

  async create(proof: CardSignatureProof, request: { postalCode: string; address: string; ticket: IdempotencyTicket }): Promise<ReissuanceOrderDto> {
    const area = deliveryArea(request.postalCode);
    if (!area.allowed) throw refusalProblem(area);
    return this.dataSource.transaction(async (manager) => {
      // The card's challenge is used up with the order, first (before the card's locks): see CardSignatureService.useUp.
      await this.cardSignatures.useUp(manager, proof, request.ticket);
      const now = floorToSecond(this.clock.now());
      const current = deciding(await this.certificates.lockByCardNumber(manager, proof.cardNumber));
      if (!current) throw notFound('certificate-not-found', 'no signature certificate on this card');
      const decision = decideOnlineReissuance(current.facts, 'online-card-signature', now);
      if (!decision.allowed) throw refusalProblem(decision);
      const holder: Array<{ name: string }> = await manager.query(`SELECT name FROM holder WHERE id = $1`, [current.holderId]);
      const open: unknown[] = await manager.query(
        `SELECT 1 FROM reissuance_order WHERE old_card_id = $1 AND state NOT IN ('expired', 'cancelled', 'activated') FOR UPDATE`,
        [current.cardId],
      );
      if (open.length > 0) throw new ProblemException('reissuance-order-exists', HttpStatus.CONFLICT, 'Order exists', 'this card already has an open re-issuance order');
      const order = await this.orders.insert(manager, {
        holderId: current.holderId,
        oldCardId: current.cardId,
        oldCertificateId: current.id,
        amountNtd: REISSUANCE_FEE_NTD,
        printedName: holder[0].name,
        paymentDeadline: paymentDeadline(now),
        postalCode: area.area.postalCode,
        address: request.address.trim(),
        now,
      });
      await this.orders.recordCreated(manager, order, now, { kind: 'holder', id: proof.holderId });
      const view = orderView(order);
      await this.idempotency.completeInTransaction(manager, request.ticket, 201, view, now);
      return view;
    });
  }

  async startPayment(orderId: string, method: PaymentMethod, ticket: IdempotencyTicket): Promise<{ order: ReissuanceOrderDto; checkout: CheckoutFormDto }> {
    return this.dataSource.transaction(async (manager) => {
      const now = floorToSecond(this.clock.now());
      const order = await this.orders.lock(manager, { id: orderId });
      if (!order) throw notFound('reissuance-order-not-found', 'no such re-issuance order');
      const attempt = order.payment_attempt + 1;
      if (attempt > REISSUANCE_PAYMENT_ATTEMPTS) {
        throw new ProblemException('payment-attempts-exhausted', HttpStatus.CONFLICT, 'Too many payment attempts', 'cancel this order and order again');
      }
      // A new checkout replaces the previous one (another method, or a new try after a declined card).
      const moved = await this.orders.transition(manager, order, 'start-payment', now, { kind: 'holder', id: order.holder_id }, {
        set: { payment_method: method, payment_provider: this.gateway.provider, payment_attempt: attempt, virtual_account: null, bank_code: null },
      });
      const checkout = this.gateway.checkout({
        orderNumber: gatewayTradeNumber(moved.order_number, attempt),
        amountNtd: moved.amount_twd,
        method,
        orderedAt: now,
        paymentDeadline: moved.payment_deadline!,
      });
      const body = { order: orderView(moved), checkout };
      await this.idempotency.completeInTransaction(manager, ticket, 200, body, now);
      return body;
    });
  }

  async cancel(proof: CardSignatureProof, orderId: string, ticket: IdempotencyTicket): Promise<ReissuanceOrderDto> {
    return this.dataSource.transaction(async (manager) => {
      await this.cardSignatures.useUp(manager, proof, ticket);
      const now = floorToSecond(this.clock.now());
      const order = await this.orders.lock(manager, { id: orderId });
      // The old card's holder only; the same answer as a missing order to anyone else.
      if (!order || order.holder_id !== proof.holderId) throw notFound('reissuance-order-not-found', 'no such re-issuance order');
      const moved = await this.orders.transition(manager, order, 'cancel', now, { kind: 'holder', id: proof.holderId });
      const view = orderView(moved);
      await this.idempotency.completeInTransaction(manager, ticket, 200, view, now);
      return view;
    });
  }

  async view(orderId: string): Promise<ReissuanceOrderDto> {
    const order = await this.orders.find(this.dataSource, orderId);
    if (!order) throw notFound('reissuance-order-not-found', 'no such re-issuance order');
    return orderView(order);
  }

  /** Payments kept and flagged for an operator (docs/reissuance.md). */
  async flaggedPayments(limit: number): Promise<{ payments: Array<Record<string, unknown>> }> {
    return { payments: await this.orders.flaggedPayments(this.dataSource, limit) };
  }

  /** Orders past their payment deadline without a payment become expired (each audited). */
  async expireOverdue(): Promise<{ expired: string[] }> {
    const now = floorToSecond(this.clock.now());
    return { expired: await this.dataSource.transaction((manager) => expireOverdueOrders(manager, this.orders, now)) };
  }
}

/** The certificate whose state decides eligibility: the card's newest signature certificate, a live one before a revoked one. */
function deciding(rows: LockedCertificate[]): LockedCertificate | undefined {
  return rows
    .filter((row) => row.kind === 'signature')
    .sort((a, b) => b.facts.notAfter.getTime() - a.facts.notAfter.getTime() || Number(a.status === 'revoked') - Number(b.status === 'revoked'))[0];
}

/** What the holder sees of an order: no address, no national ID. */
export function orderView(order: OrderRow): ReissuanceOrderDto {
  return {
    orderId: order.id,
    orderNumber: order.order_number,
    state: order.state,
    amountNtd: order.amount_twd,
    paymentMethod: order.payment_method,
    paymentDeadline: order.payment_deadline?.toISOString() ?? null,
    bankCode: order.bank_code,
    virtualAccount: order.virtual_account,
    paidAt: order.paid_at?.toISOString() ?? null,
    deliveryEstimate:
      order.delivery_earliest && order.delivery_latest
        ? { earliest: isoDate(order.delivery_earliest), latest: isoDate(order.delivery_latest), region: outlying(order.postal_code) }
        : null,
    trackingNumber: order.tracking_number,
    cardValidUntil: order.card_valid_until?.toISOString() ?? null,
    refund: refundPolicy(order.state),
    refundDue: order.refund_due,
    refundPolicy: REFUND_POLICY_TEXT,
  };
}

function outlying(postalCode: string | null): string {
  const area = deliveryArea(postalCode ?? '');
  return area.allowed ? area.area.region : 'main-island';
}

/** node-postgres returns `date` columns as local-midnight Dates unless told otherwise; accept both. */
function isoDate(value: string | Date): string {
  if (typeof value === 'string') return value.slice(0, 10);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${value.getFullYear()}-${pad(value.getMonth() + 1)}-${pad(value.getDate())}`;
}
