import { decideOrderTransition, paymentDeadline, refundPolicy, REISSUANCE_FEE_NTD, type ReissuanceOrderEvent, type ReissuanceOrderState } from './reissuance-order';

const at = (iso: string) => new Date(iso);
const DEADLINE = at('2034-01-18T15:59:59Z'); // 2034-01-18 23:59:59 Taiwan time
const order = (state: ReissuanceOrderState) => ({ state, paymentDeadline: DEADLINE, amountNtd: REISSUANCE_FEE_NTD });
const BEFORE = at('2034-01-16T00:00:00Z');
const AFTER = at('2034-01-18T16:00:00Z');

describe('paymentDeadline', () => {
  it.each([
    ['morning in Taiwan', '2034-01-15T01:00:00Z', '2034-01-18T15:59:59.000Z'],
    ['late evening in Taiwan (already the next Taiwan day in UTC+8)', '2034-01-15T17:00:00Z', '2034-01-19T15:59:59.000Z'],
  ])('%s', (_label, orderedAt, deadline) => {
    expect(paymentDeadline(at(orderedAt)).toISOString()).toBe(deadline);
  });
});

describe('decideOrderTransition', () => {
  it.each<[ReissuanceOrderState, ReissuanceOrderEvent, Date, number | undefined, string]>([
    ['created', 'start-payment', BEFORE, undefined, 'awaiting_payment'],
    ['awaiting_payment', 'start-payment', BEFORE, undefined, 'awaiting_payment'],
    ['awaiting_payment', 'payment-received', BEFORE, 250, 'paid'],
    ['awaiting_payment', 'payment-received', DEADLINE, 250, 'paid'],
    ['paid', 'start-production', AFTER, undefined, 'in_production'],
    ['in_production', 'ship', AFTER, undefined, 'shipped'],
    ['shipped', 'deliver', AFTER, undefined, 'delivered'],
    ['shipped', 'activate', AFTER, undefined, 'activated'],
    ['delivered', 'activate', AFTER, undefined, 'activated'],
    ['awaiting_payment', 'expire', AFTER, undefined, 'expired'],
    ['created', 'expire', AFTER, undefined, 'expired'],
    ['created', 'cancel', BEFORE, undefined, 'cancelled'],
    ['paid', 'cancel', AFTER, undefined, 'cancelled'],
  ])('%s --%s--> allowed', (state, event, now, paid, to) => {
    expect(decideOrderTransition(order(state), event, now, { paidAmountNtd: paid })).toMatchObject({ allowed: true, to });
  });

  it('refunds a paid order cancelled before production, and nothing else', () => {
    expect(decideOrderTransition(order('paid'), 'cancel', AFTER)).toMatchObject({ refundDue: true });
    expect(decideOrderTransition(order('awaiting_payment'), 'cancel', BEFORE)).toMatchObject({ refundDue: false });
  });

  it.each<[ReissuanceOrderState, ReissuanceOrderEvent, Date, number | undefined, string]>([
    ['awaiting_payment', 'payment-received', AFTER, 250, 'payment-deadline-passed'],
    ['created', 'start-payment', AFTER, undefined, 'payment-deadline-passed'],
    ['awaiting_payment', 'payment-received', BEFORE, 200, 'payment-amount-mismatch'],
    ['awaiting_payment', 'payment-received', BEFORE, 2500, 'payment-amount-mismatch'],
    ['expired', 'payment-received', AFTER, 250, 'order-state-conflict'],
    ['paid', 'payment-received', BEFORE, 250, 'order-state-conflict'],
    ['awaiting_payment', 'expire', BEFORE, undefined, 'order-state-conflict'],
    ['in_production', 'cancel', AFTER, undefined, 'order-not-cancellable'],
    ['shipped', 'cancel', AFTER, undefined, 'order-not-cancellable'],
    ['delivered', 'cancel', AFTER, undefined, 'order-not-cancellable'],
    ['in_production', 'expire', AFTER, undefined, 'order-state-conflict'],
    ['paid', 'expire', AFTER, undefined, 'order-state-conflict'],
    ['in_production', 'activate', AFTER, undefined, 'order-state-conflict'],
    ['activated', 'activate', AFTER, undefined, 'order-state-conflict'],
    ['cancelled', 'start-payment', BEFORE, undefined, 'order-state-conflict'],
    ['paid', 'start-payment', BEFORE, undefined, 'order-state-conflict'],
  ])('%s --%s--> refused', (state, event, now, paid, code) => {
    expect(decideOrderTransition(order(state), event, now, { paidAmountNtd: paid })).toMatchObject({ allowed: false, code });
  });

  it.each<[ReissuanceOrderState, string]>([
    ['created', 'refundable'],
    ['awaiting_payment', 'refundable'],
    ['paid', 'refundable'],
    ['in_production', 'no-refund'],
    ['shipped', 'no-refund'],
    ['delivered', 'no-refund'],
    ['activated', 'no-refund'],
  ])('refund policy when %s: %s', (state, policy) => {
    expect(refundPolicy(state)).toBe(policy);
  });
});
