/**
 * The order of an online re-issuance (線上換發, DOMAIN.md; leaflet 申辦流程:
 * 上網申請 -> 線上繳費 -> 寄送卡片 -> 網路開卡). An explicit state machine:
 *
 * | event              | from                                  | to               |
 * |--------------------|---------------------------------------|------------------|
 * | start-payment      | created, awaiting_payment (a new try)  | awaiting_payment |
 * | payment-received   | awaiting_payment (before the deadline)| paid             |
 * | start-production   | paid                                  | in_production    |
 * | ship               | in_production (card issued)           | shipped          |
 * | deliver            | shipped                               | delivered        |
 * | activate           | shipped, delivered                    | activated        |
 * | expire             | created, awaiting_payment (deadline)  | expired          |
 * | cancel             | created, awaiting_payment, paid       | cancelled        |
 *
 * Leaflet 寄送卡片: the card is personalised (printed name and validity date),
 * so once paid and in production it cannot be refunded (故繳費製卡完成後即無法
 * 退費); a paid order cancelled before production is refunded. The fee is the
 * card fee (IC卡工本費250元).
 */
import { APPLICATION_FEE_NTD } from './application-fee';
import { allow, refuse, type Decision } from './decision';
import { addDays, startOfTaiwanDay, taiwanCalendarDate } from './taiwan-time';

/** The states of a re-issuance order, as stored. */
export type ReissuanceOrderState =
  | 'created'
  | 'awaiting_payment'
  | 'paid'
  | 'in_production'
  | 'shipped'
  | 'delivered'
  | 'activated'
  | 'expired'
  | 'cancelled';

/** What moves an order. */
export type ReissuanceOrderEvent =
  | 'start-payment'
  | 'payment-received'
  | 'start-production'
  | 'ship'
  | 'deliver'
  | 'activate'
  | 'expire'
  | 'cancel';

/** The fee of a re-issued card: the card fee (leaflet: IC卡工本費250元), NT$. */
export const REISSUANCE_FEE_NTD = APPLICATION_FEE_NTD;

/** Checkouts of one order at most (each has its own number at the gateway). */
export const REISSUANCE_PAYMENT_ATTEMPTS = 9;

/** Days to pay after ordering; the deadline is the end of that Taiwan day. */
export const REISSUANCE_PAYMENT_DAYS = 3;

/** States from which the order can no longer change. */
export const FINAL_ORDER_STATES: readonly ReissuanceOrderState[] = ['activated', 'expired', 'cancelled'];

/** States in which the holder's money is kept without refund (leaflet: 繳費製卡完成後即無法退費). */
const NO_REFUND_STATES: readonly ReissuanceOrderState[] = ['in_production', 'shipped', 'delivered', 'activated'];

const TRANSITIONS: Readonly<Record<ReissuanceOrderEvent, { from: readonly ReissuanceOrderState[]; to: ReissuanceOrderState }>> = {
  // Again while awaiting payment: another method, or a new try after a declined card.
  'start-payment': { from: ['created', 'awaiting_payment'], to: 'awaiting_payment' },
  'payment-received': { from: ['awaiting_payment'], to: 'paid' },
  'start-production': { from: ['paid'], to: 'in_production' },
  ship: { from: ['in_production'], to: 'shipped' },
  deliver: { from: ['shipped'], to: 'delivered' },
  activate: { from: ['shipped', 'delivered'], to: 'activated' },
  expire: { from: ['created', 'awaiting_payment'], to: 'expired' },
  cancel: { from: ['created', 'awaiting_payment', 'paid'], to: 'cancelled' },
};

/** The end of the payment period of an order placed at `orderedAt`: 23:59:59 Taiwan time, 3 days later. */
export function paymentDeadline(orderedAt: Date): Date {
  const day = taiwanCalendarDate(addDays(orderedAt, REISSUANCE_PAYMENT_DAYS));
  return new Date(startOfTaiwanDay(day).getTime() + 86_400_000 - 1000);
}

/** Whether the holder is owed a refund, or told there is none, in a state. */
export function refundPolicy(state: ReissuanceOrderState): 'refundable' | 'no-refund' {
  return NO_REFUND_STATES.includes(state) ? 'no-refund' : 'refundable';
}

/**
 * Decides one step of the order. `paymentDeadline` is checked when payment
 * starts, for a payment (a late one is refused: the caller records and flags it, never drops it)
 * and for expiry (only after it passed). A cancelled paid order is refunded.
 */
export function decideOrderTransition(
  order: { state: ReissuanceOrderState; paymentDeadline: Date | null; amountNtd: number },
  event: ReissuanceOrderEvent,
  now: Date,
  facts: { paidAmountNtd?: number } = {},
): Decision<{ to: ReissuanceOrderState; refundDue: boolean }> {
  const rule = TRANSITIONS[event];
  if (!rule.from.includes(order.state)) {
    if (event === 'cancel' && NO_REFUND_STATES.includes(order.state)) {
      return refuse('order-not-cancellable', 'The card is personalised once production starts: the order can no longer be cancelled or refunded.');
    }
    return refuse('order-state-conflict', `An order that is ${order.state} cannot ${event}.`);
  }
  const overdue = order.paymentDeadline !== null && now.getTime() > order.paymentDeadline.getTime();
  if (event === 'start-payment' && overdue) return refuse('payment-deadline-passed', 'The payment deadline has passed: order again.');
  if (event === 'payment-received') {
    if (overdue) return refuse('payment-deadline-passed', 'The payment arrived after the payment deadline.');
    if (facts.paidAmountNtd !== order.amountNtd) {
      return refuse('payment-amount-mismatch', `The payment of NT$${facts.paidAmountNtd ?? 0} does not match the order amount NT$${order.amountNtd}.`);
    }
  }
  if (event === 'expire' && !overdue) return refuse('order-state-conflict', 'The payment deadline has not passed.');
  return allow({ to: rule.to, refundDue: event === 'cancel' && order.state === 'paid' });
}
