import { HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { decideOrderTransition, estimateDelivery, floorToSecond, type WorkingCalendar } from '@moica/policy';
import { appendAudit } from '@moica/db';
import { AppConfig, Clock, ProblemException } from '@moica/platform';
import { APP_CONFIG } from '../tokens';
import { PAYMENT_GATEWAY } from './payment/payment-gateway-from-config';
import { PaymentGateway, PaymentNotification, PaymentNotificationRejected } from './payment/payment-gateway';
import { OrderRow, parseGatewayTradeNumber, ReissuanceOrderRepository } from './reissuance-order.repository';

/** What became of a payment notification (payment.outcome). */
export type PaymentOutcome = 'applied' | 'amount-mismatch' | 'late' | 'order-not-awaiting-payment' | 'unknown-order' | 'not-paid';

/**
 * Payment notifications from the gateway (docs/reissuance.md). The
 * signature is verified first (a forged one is refused, nothing stored).
 * Then, with the order locked, in one transaction:
 *
 * - a virtual account assigned to an ATM order is stored on it;
 * - a payment is stored once per provider trade number: a replay or a
 *   duplicate finds it and changes nothing;
 * - a payment that matches an order awaiting payment, before its deadline
 *   and for its amount, pays it (with the delivery estimate);
 * - anything else (wrong amount, after the deadline - the order is expired
 *   then -, an order no longer awaiting payment, an unknown order, a failed
 *   payment) is recorded with its outcome and flagged for an operator:
 *   never lost, never applied.
 */
@Injectable()
export class PaymentNotificationService {
  private readonly logger = new Logger(PaymentNotificationService.name);
  private readonly calendar: WorkingCalendar;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly orders: ReissuanceOrderRepository,
    @Inject(PAYMENT_GATEWAY) private readonly gateway: PaymentGateway,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.calendar = workingCalendarFromConfig(config);
  }

  async receive(fields: Record<string, string>): Promise<{ acknowledgement: string; outcome: PaymentOutcome | 'duplicate' | 'account-assigned' | 'superseded-attempt' }> {
    let notification: PaymentNotification;
    try {
      notification = this.gateway.readNotification(fields);
    } catch (error) {
      if (error instanceof PaymentNotificationRejected) {
        this.logger.warn({ code: error.code, orderNumber: fields.MerchantTradeNo }, 'payment notification refused');
        throw new ProblemException(`payment-notification-${error.code}`, HttpStatus.BAD_REQUEST, 'Payment notification refused', error.message);
      }
      throw error;
    }
    const trade = parseGatewayTradeNumber(notification.orderNumber);
    const outcome = await this.dataSource.transaction(async (manager) => {
      const order = trade ? await this.orders.lock(manager, { orderNumber: trade.orderNumber }) : null;
      return notification.kind === 'atm-account-assigned'
        ? this.accountAssigned(manager, order, notification, trade?.attempt ?? 0)
        : this.payment(manager, order, notification);
    });
    return { acknowledgement: this.gateway.acknowledgement, outcome };
  }

  private async accountAssigned(
    manager: EntityManager,
    order: OrderRow | null,
    notification: Extract<PaymentNotification, { kind: 'atm-account-assigned' }>,
    attempt: number,
  ): Promise<'account-assigned' | 'duplicate' | 'unknown-order' | 'superseded-attempt'> {
    if (!order) return 'unknown-order';
    if (order.virtual_account === notification.virtualAccount) return 'duplicate';
    // An account for an earlier checkout the holder replaced: not shown; a transfer to it is still recorded when it comes.
    if (attempt !== order.payment_attempt) return 'superseded-attempt';
    if (order.state !== 'awaiting_payment' || order.payment_method !== 'atm' || order.virtual_account !== null) {
      throw new ProblemException('order-state-conflict', HttpStatus.CONFLICT, 'Order not awaiting an ATM account', `order ${order.order_number} is ${order.state}`);
    }
    const now = this.clock.now();
    await manager.query(`UPDATE reissuance_order SET virtual_account = $2, bank_code = $3, updated_at = $4 WHERE id = $1`, [
      order.id,
      notification.virtualAccount,
      notification.bankCode,
      now,
    ]);
    await appendAudit(manager, {
      at: now,
      actorKind: 'system',
      operation: 'reissuance.atm-account-assigned',
      subjectKind: 'reissuance-order',
      subjectId: order.order_number,
      after: { bankCode: notification.bankCode, virtualAccount: notification.virtualAccount },
      detail: { provider: this.gateway.provider, providerTradeNo: notification.providerTradeNo },
    });
    return 'account-assigned';
  }

  private async payment(
    manager: EntityManager,
    order: OrderRow | null,
    notification: Extract<PaymentNotification, { kind: 'payment' }>,
  ): Promise<PaymentOutcome | 'duplicate'> {
    const seen: unknown[] = await manager.query(`SELECT 1 FROM payment WHERE provider = $1 AND provider_trade_no = $2`, [
      this.gateway.provider,
      notification.providerTradeNo,
    ]);
    if (seen.length > 0) return 'duplicate';
    const now = floorToSecond(this.clock.now());
    const paidAt = Number.isNaN(notification.paidAt.getTime()) ? now : notification.paidAt;

    let outcome: PaymentOutcome;
    let current = order;
    if (!notification.succeeded) outcome = 'not-paid';
    else if (!order) outcome = 'unknown-order';
    else {
      // The instant the gateway says the money arrived decides lateness (ECPay's PaymentDate), not when we hear of it.
      const decision = decideOrderTransition(
        { state: order.state, paymentDeadline: order.payment_deadline, amountNtd: order.amount_twd },
        'payment-received',
        paidAt,
        { paidAmountNtd: notification.amountNtd },
      );
      if (decision.allowed) outcome = 'applied';
      else if (decision.code === 'payment-amount-mismatch') outcome = 'amount-mismatch';
      else if (decision.code === 'payment-deadline-passed' || order.state === 'expired') outcome = 'late';
      else outcome = 'order-not-awaiting-payment';
      if (outcome === 'late' && (order.state === 'awaiting_payment' || order.state === 'created')) {
        current = await this.orders.transition(manager, order, 'expire', now, { kind: 'system' }, { detail: { reason: 'payment received after the deadline' } });
      }
    }

    const inserted: Array<{ id: string }> = await manager.query(
      `INSERT INTO payment (order_id, provider, provider_trade_no, amount_twd, paid_at, flagged, outcome, raw, received_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (provider, provider_trade_no) DO NOTHING RETURNING id`,
      [
        order?.id ?? null,
        this.gateway.provider,
        notification.providerTradeNo,
        notification.amountNtd,
        paidAt,
        outcome === 'applied' ? null : flagOf(outcome, order),
        outcome,
        JSON.stringify(notification.raw),
        now,
      ],
    );
    // A concurrent copy of the same notification for an unknown order (nothing locked) got there first.
    if (inserted.length === 0) return 'duplicate';

    if (outcome === 'applied' && current) {
      const estimate = estimateDelivery(current.postal_code ?? '', paidAt, this.calendar);
      await this.orders.transition(manager, current, 'payment-received', now, { kind: 'system' }, {
        decidedAt: paidAt,
        set: {
          paid_at: paidAt,
          delivery_earliest: estimate.allowed ? estimate.earliest : null,
          delivery_latest: estimate.allowed ? estimate.latest : null,
        },
        detail: { paymentId: inserted[0].id, provider: this.gateway.provider, providerTradeNo: notification.providerTradeNo, method: notification.method },
        paidAmountNtd: notification.amountNtd,
      });
    } else {
      await appendAudit(manager, {
        at: now,
        actorKind: 'system',
        operation: 'reissuance.payment-flagged',
        subjectKind: 'reissuance-order',
        subjectId: order?.order_number ?? notification.orderNumber.slice(0, 40),
        after: { outcome, amountNtd: notification.amountNtd, orderState: current?.state ?? null },
        detail: { paymentId: inserted[0].id, provider: this.gateway.provider, providerTradeNo: notification.providerTradeNo },
      });
      this.logger.warn({ outcome, orderNumber: notification.orderNumber, providerTradeNo: notification.providerTradeNo }, 'payment recorded and flagged for an operator');
    }
    return outcome;
  }
}

function flagOf(outcome: PaymentOutcome, order: OrderRow | null): string {
  switch (outcome) {
    case 'amount-mismatch':
      return `paid amount differs from the order amount NT$${order?.amount_twd}: refund or collect the difference`;
    case 'late':
      return 'paid after the payment deadline; the order expired: refund';
    case 'order-not-awaiting-payment':
      return `the order is ${order?.state}: a second payment? refund`;
    case 'unknown-order':
      return 'no order with this number';
    case 'not-paid':
      return 'the gateway reports a failed payment';
    default:
      return outcome;
  }
}

/** The working calendar of delivery estimates from the configuration (REISSUANCE_HOLIDAYS, REISSUANCE_MAKEUP_WORKDAYS). */
export function workingCalendarFromConfig(config: Pick<AppConfig, 'REISSUANCE_HOLIDAYS' | 'REISSUANCE_MAKEUP_WORKDAYS'>): WorkingCalendar {
  const list = (text: string | undefined) => new Set((text ?? '').split(',').filter(Boolean));
  return { holidays: list(config.REISSUANCE_HOLIDAYS), makeUpWorkdays: list(config.REISSUANCE_MAKEUP_WORKDAYS) };
}
