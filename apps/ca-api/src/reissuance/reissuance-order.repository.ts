import { Injectable } from '@nestjs/common';
import { decideOrderTransition, FINAL_ORDER_STATES, type ReissuanceOrderEvent, type ReissuanceOrderState } from '@moica/policy';
import { appendAudit, type AuditRecord, type Queryable } from '@moica/db';
import { refusalProblem } from '../common/refusals';

/** A re-issuance order row as the services use it. */
export interface OrderRow {
  id: string;
  holder_id: string;
  old_card_id: string;
  new_card_id: string | null;
  state: ReissuanceOrderState;
  amount_twd: number;
  payment_method: 'atm' | 'credit_card' | null;
  virtual_account: string | null;
  payment_deadline: Date | null;
  postal_code: string | null;
  address: string | null;
  tracking_number: string | null;
  order_number: string;
  old_certificate_id: string | null;
  printed_name: string | null;
  card_valid_until: Date | null;
  payment_provider: string | null;
  bank_code: string | null;
  paid_at: Date | null;
  production_batch_id: string | null;
  delivery_earliest: string | null;
  delivery_latest: string | null;
  shipped_at: Date | null;
  delivered_at: Date | null;
  activated_at: Date | null;
  closed_at: Date | null;
  refund_due: boolean;
  payment_attempt: number;
  created_at: Date;
}

/** Who moved an order, for the audit log. */
export interface OrderActor {
  kind: AuditRecord['actorKind'];
  id?: string | null;
  officeId?: string | null;
}

/** Columns a transition may set besides the state. */
const SETTABLE = new Set([
  'payment_method', 'payment_provider', 'payment_attempt', 'virtual_account', 'bank_code', 'paid_at', 'delivery_earliest', 'delivery_latest',
  'production_batch_id', 'card_valid_until', 'new_card_id', 'tracking_number', 'shipped_at', 'delivered_at', 'activated_at',
]);

/**
 * SQL of re-issuance orders. Every change of state goes through
 * `transition`: libs/policy decides (decideOrderTransition), the row and one
 * audit record are written in the caller's transaction.
 */
@Injectable()
export class ReissuanceOrderRepository {
  async lock(manager: Queryable, where: { id?: string; orderNumber?: string; newCardId?: string }): Promise<OrderRow | null> {
    const [column, value] = where.id !== undefined ? ['id', where.id] : where.orderNumber !== undefined ? ['order_number', where.orderNumber] : ['new_card_id', where.newCardId];
    if (column === 'id' && !isUuid(String(value))) return null;
    const rows = await returning<OrderRow>(manager, `SELECT * FROM reissuance_order WHERE ${column} = $1 FOR UPDATE`, [value]);
    return rows[0] ?? null;
  }

  /** An order without locking it (to show it). */
  async find(db: Queryable, id: string): Promise<OrderRow | null> {
    if (!isUuid(id)) return null;
    return (await returning<OrderRow>(db, `SELECT * FROM reissuance_order WHERE id = $1`, [id]))[0] ?? null;
  }

  /** Payments kept for an operator (flagged), newest first, with their order's number and state. */
  async flaggedPayments(db: Queryable, limit: number): Promise<Array<Record<string, unknown>>> {
    return returning(
      db,
      `SELECT p.id, p.provider, p.provider_trade_no, p.amount_twd, p.paid_at, p.received_at, p.outcome, p.flagged,
              o.order_number, o.state AS order_state, o.amount_twd AS order_amount_twd
         FROM payment p LEFT JOIN reissuance_order o ON o.id = p.order_id
        WHERE p.outcome <> 'applied' ORDER BY p.received_at DESC, p.id LIMIT $1`,
      [limit],
    );
  }

  async insert(
    manager: Queryable,
    order: { holderId: string; oldCardId: string; oldCertificateId: string; amountNtd: number; printedName: string; paymentDeadline: Date; postalCode: string; address: string; now: Date },
  ): Promise<OrderRow> {
    const rows = await returning<OrderRow>(
      manager,
      `INSERT INTO reissuance_order (holder_id, old_card_id, old_certificate_id, state, amount_twd, printed_name, payment_deadline,
                                     postal_code, address, order_number, created_at, updated_at)
       VALUES ($1, $2, $3, 'created', $4, $5, $6, $7, $8, 'RI' || lpad(nextval('reissuance_order_number_seq')::text, 12, '0'), $9, $9)
       RETURNING *`,
      [order.holderId, order.oldCardId, order.oldCertificateId, order.amountNtd, order.printedName, order.paymentDeadline, order.postalCode, order.address, order.now],
    );
    return rows[0];
  }

  /** The audit record of a new order (state created). */
  async recordCreated(manager: Queryable, order: OrderRow, now: Date, actor: OrderActor): Promise<void> {
    await appendAudit(manager, {
      at: now,
      actorKind: actor.kind,
      actorId: actor.id ?? null,
      operation: 'reissuance.created',
      subjectKind: 'reissuance-order',
      subjectId: order.order_number,
      after: { state: order.state, oldCardId: order.old_card_id, amountNtd: order.amount_twd, postalCode: order.postal_code, paymentDeadline: order.payment_deadline },
    });
  }

  /** Moves an order by one event of its state machine, with its audit record; throws the policy's refusal. */
  async transition(
    manager: Queryable,
    order: OrderRow,
    event: ReissuanceOrderEvent,
    now: Date,
    actor: OrderActor,
    options: { set?: Record<string, unknown>; detail?: Record<string, unknown>; paidAmountNtd?: number; decidedAt?: Date } = {},
  ): Promise<OrderRow> {
    const { set = {}, detail = {} } = options;
    const decision = decideOrderTransition(
      { state: order.state, paymentDeadline: order.payment_deadline, amountNtd: order.amount_twd },
      event,
      // A payment is judged at the instant the gateway says it was made.
      options.decidedAt ?? now,
      { paidAmountNtd: options.paidAmountNtd },
    );
    if (!decision.allowed) throw refusalProblem(decision, { orderState: order.state });
    const columns = Object.entries(set).filter(([name]) => SETTABLE.has(name));
    const values: unknown[] = [order.id, decision.to, now, FINAL_ORDER_STATES.includes(decision.to) ? now : null, decision.refundDue];
    const assignments = columns.map(([name], i) => `${name} = $${i + 6}`);
    values.push(...columns.map(([, value]) => value));
    const rows = await returning<OrderRow>(
      manager,
      `UPDATE reissuance_order SET state = $2, updated_at = $3, closed_at = coalesce($4, closed_at), refund_due = $5
              ${assignments.length ? ', ' + assignments.join(', ') : ''}
        WHERE id = $1 RETURNING *`,
      values,
    );
    await appendAudit(manager, {
      at: now,
      actorKind: actor.kind,
      actorId: actor.id ?? null,
      officeId: actor.officeId ?? null,
      operation: `reissuance.${event}`,
      subjectKind: 'reissuance-order',
      subjectId: order.order_number,
      before: { state: order.state },
      // The address is personal data and stays in its table; the audit says what changed.
      after: { state: decision.to, refundDue: decision.refundDue, ...Object.fromEntries(columns.filter(([name]) => name !== 'address')) },
      detail,
    });
    return rows[0];
  }
}

/**
 * Orders past their payment deadline without a payment become expired, each
 * with its audit record, in the caller's transaction (ca-api's operator
 * call and the worker's reissuance-expiry task share it).
 */
export async function expireOverdueOrders(db: Queryable, orders: ReissuanceOrderRepository, now: Date): Promise<string[]> {
  const rows = await returning<OrderRow>(
    db,
    `SELECT * FROM reissuance_order WHERE state IN ('created', 'awaiting_payment') AND payment_deadline < $1
      ORDER BY payment_deadline LIMIT 1000 FOR UPDATE SKIP LOCKED`,
    [now],
  );
  for (const order of rows) await orders.transition(db, order, 'expire', now, { kind: 'system' });
  return rows.map((order) => order.order_number);
}

/** Rows of a query, whether the runner is pg (a result) or TypeORM (rows, or [rows, count] for UPDATE ... RETURNING). */
async function returning<T>(db: Queryable, sql: string, params: unknown[]): Promise<T[]> {
  const result = (await db.query(sql, params)) as T[] | [T[], number] | { rows: T[] };
  if (!Array.isArray(result)) return result.rows;
  return result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number' ? (result[0] as T[]) : (result as T[]);
}

/** The order's number at the gateway for one checkout: the order number, P, the attempt (ECPay refuses a MerchantTradeNo twice). */
export function gatewayTradeNumber(orderNumber: string, attempt: number): string {
  return `${orderNumber}P${attempt}`;
}

/** The order number and attempt of a gateway trade number; null when it is not one of ours. */
export function parseGatewayTradeNumber(tradeNumber: string): { orderNumber: string; attempt: number } | null {
  const match = /^(RI\d{12})P(\d)$/.exec(tradeNumber);
  return match ? { orderNumber: match[1], attempt: Number(match[2]) } : null;
}

export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
