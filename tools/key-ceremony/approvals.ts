/**
 * M-of-N approval of key operations (key_operation_approval). An operator
 * requests an operation with fixed parameters (that request counts as the
 * first approval); other operators approve it, each once; when `required`
 * approvals are reached it is approved; one of the approving operators then
 * executes it, exactly once. Every step is one transaction ending with one
 * audit record (and, through the API, the Idempotency-Key answer: see
 * BeforeCommit); a refused step of a known operator is audited as well.
 *
 * Concurrency: every step locks the request row (SELECT ... FOR UPDATE), so
 * two approvals never lose one another and two executions run it once. The
 * operation runs inside the executing transaction: its database rows commit
 * together with state 'executed' and the audit record, or not at all.
 */
import { Pool, PoolClient } from 'pg';
import { appendAudit, queryRows } from '../../db/audit-chain';
import { inTransaction } from '../../db/transaction';
import { CeremonyRefused } from './ceremony-errors';
import { CeremonyOperation, isCeremonyOperation, OperationParameters, parametersDigest, validateParameters } from './ceremony-parameters';
import { countActiveOperators, Operator, stillActiveOperators } from './operators';

export const DEFAULT_QUORUM = 2;

export interface ApprovalEntry {
  operator: string;
  name: string;
  at: string;
  /** parametersDigest() of what this operator approved. */
  parametersDigest: string;
}

export type RequestState = 'pending' | 'approved' | 'rejected' | 'executed';

export interface KeyOperationRequest {
  id: string;
  operation: CeremonyOperation;
  parameters: Record<string, unknown>;
  parametersDigest: string;
  requestedBy: string;
  required: number;
  approvals: ApprovalEntry[];
  state: RequestState;
  createdAt: Date;
  decidedAt: Date | null;
  executedAt: Date | null;
  executedBy: string | null;
  result: Record<string, unknown> | null;
}

export interface CeremonyContext {
  pool: Pool;
  /** The ceremony's clock (injected: tests fix it, the CLI reads the system clock). */
  now: () => Date;
  /** KEY_CEREMONY_QUORUM: approvals needed, counting the requester. */
  quorum: number;
}

/**
 * Reads KEY_CEREMONY_QUORUM: default 2; fewer than 2 is refused, since one
 * operator alone must never create or use a CA key.
 */
export function parseQuorum(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return DEFAULT_QUORUM;
  const quorum = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isInteger(quorum) || quorum < 2) {
    throw new CeremonyRefused(
      'quorum-misconfigured',
      `KEY_CEREMONY_QUORUM=${value} is refused: key operations need at least 2 operators (M-of-N with M >= 2)`,
    );
  }
  return quorum;
}

/** Undo actions for what an operation did outside the database (files written), run if its transaction does not commit. */
export class UndoLog {
  private readonly actions: Array<() => Promise<void> | void> = [];
  push(action: () => Promise<void> | void): void {
    this.actions.push(action);
  }
  async run(): Promise<void> {
    for (const action of this.actions.reverse()) {
      try {
        await action();
      } catch {
        // Best effort: the failure that made us undo is the one reported.
      }
    }
  }
}

export interface ExecutionOutcome {
  /** What the operation produced, for the audit record and the operator: key labels, serials, fingerprints, files. */
  result: Record<string, unknown>;
  subjectKind: string;
  subjectId: string;
}

/** Runs an approved operation in the executing transaction. */
export type OperationRunner = (
  tx: PoolClient,
  request: { id: string; operation: CeremonyOperation; parameters: OperationParameters[CeremonyOperation]; now: Date },
  undo: UndoLog,
) => Promise<ExecutionOutcome>;

/**
 * Runs last in a step's transaction, after its change and audit record and
 * before COMMIT, with the step's answer: the API records its Idempotency-Key
 * answer there, so that a request whose claim a retry took over throws and
 * rolls its step back instead of committing it a second time.
 */
export type BeforeCommit = (tx: PoolClient, result: KeyOperationRequest) => Promise<void>;

/** Checks an operation's parameters against the database before it is requested (name conflicts, parents...). */
export type RequestPrecheck = (db: PoolClient, operation: CeremonyOperation, parameters: OperationParameters[CeremonyOperation]) => Promise<void>;

const SUBJECT_KIND = 'key-operation-approval';

/** Creates a pending request; the requester's own approval is its first. */
export async function requestOperation(
  ctx: CeremonyContext,
  operator: Operator,
  operation: string,
  rawParameters: unknown,
  precheck?: RequestPrecheck,
  beforeCommit?: BeforeCommit,
): Promise<KeyOperationRequest> {
  return step(ctx, operator, `request ${operation}`, null, beforeCommit, async (tx, now) => {
    if (!isCeremonyOperation(operation)) throw new CeremonyRefused('invalid-parameters', `unknown operation "${operation}"`);
    const parameters = validateParameters(operation, rawParameters);
    const quorum = parseQuorum(String(ctx.quorum));
    const operators = await countActiveOperators(tx, now);
    if (quorum > operators) {
      throw new CeremonyRefused(
        'quorum-misconfigured',
        `KEY_CEREMONY_QUORUM=${quorum} cannot be reached: only ${operators} active operator(s) are configured`,
      );
    }
    if (precheck) await precheck(tx, operation, parameters);
    const digest = parametersDigest(operation, parameters);
    const approvals: ApprovalEntry[] = [{ operator: operator.key, name: operator.name, at: now.toISOString(), parametersDigest: digest }];
    const rows = await queryRows<{ id: string }>(
      tx,
      `INSERT INTO key_operation_approval (operation, parameters, requested_by, required, approvals, state, created_at)
       VALUES ($1, $2, $3, $4, $5, 'pending', $6) RETURNING id`,
      [operation, JSON.stringify(parameters), operator.key, quorum, JSON.stringify(approvals), now],
    );
    const id = rows[0].id;
    await appendAudit(tx, {
      at: now,
      actorKind: 'operator',
      actorId: operator.key,
      operation: 'key-ceremony.requested',
      subjectKind: SUBJECT_KIND,
      subjectId: id,
      after: { state: 'pending', approvals: 1, required: quorum },
      detail: { operation, parametersDigest: digest, parameters: auditedParameters(operation, parameters) },
    });
    return loadRequest(tx, id);
  });
}

/**
 * Adds an approval. Refused for the requester, for an operator who already
 * approved, for a request that is no longer pending, and when
 * `expectedDigest` (what the operator reviewed with `show`) differs.
 */
export async function approveOperation(
  ctx: CeremonyContext,
  operator: Operator,
  id: string,
  expectedDigest?: string,
  beforeCommit?: BeforeCommit,
): Promise<KeyOperationRequest> {
  return step(ctx, operator, 'approve', id, beforeCommit, async (tx, now) => {
    const request = await lockRequest(tx, id);
    refuseUnlessPending(request);
    if (request.requestedBy === operator.key) {
      throw new CeremonyRefused('own-request', `${operator.name} requested ${id} and cannot also approve it`);
    }
    if (request.approvals.some((approval) => approval.operator === operator.key)) {
      throw new CeremonyRefused('already-approved', `${operator.name} has already approved ${id}`);
    }
    if (expectedDigest !== undefined && expectedDigest.toLowerCase() !== request.parametersDigest) {
      throw new CeremonyRefused(
        'parameters-changed',
        `${id}: the parameters digest is ${request.parametersDigest}, not ${expectedDigest} as reviewed`,
      );
    }
    const approvals = [
      ...request.approvals,
      { operator: operator.key, name: operator.name, at: now.toISOString(), parametersDigest: request.parametersDigest },
    ];
    const approved = approvals.length >= request.required;
    await tx.query(`UPDATE key_operation_approval SET approvals = $2, state = $3, decided_at = $4 WHERE id = $1`, [
      id,
      JSON.stringify(approvals),
      approved ? 'approved' : 'pending',
      approved ? now : null,
    ]);
    await appendAudit(tx, {
      at: now,
      actorKind: 'operator',
      actorId: operator.key,
      operation: 'key-ceremony.approved',
      subjectKind: SUBJECT_KIND,
      subjectId: id,
      before: { state: request.state, approvals: request.approvals.length },
      after: { state: approved ? 'approved' : 'pending', approvals: approvals.length, required: request.required },
      detail: { operation: request.operation, parametersDigest: request.parametersDigest },
    });
    return loadRequest(tx, id);
  });
}

/** Rejects a pending or approved request (any operator, including the requester withdrawing it). Final. */
export async function rejectOperation(
  ctx: CeremonyContext,
  operator: Operator,
  id: string,
  reason: string,
  beforeCommit?: BeforeCommit,
): Promise<KeyOperationRequest> {
  return step(ctx, operator, 'reject', id, beforeCommit, async (tx, now) => {
    const request = await lockRequest(tx, id);
    if (request.state === 'executed') throw new CeremonyRefused('already-executed', `${id} was executed at ${request.executedAt?.toISOString()}`);
    if (request.state === 'rejected') throw new CeremonyRefused('rejected', `${id} is already rejected`);
    await tx.query(`UPDATE key_operation_approval SET state = 'rejected', decided_at = $2 WHERE id = $1`, [id, now]);
    await appendAudit(tx, {
      at: now,
      actorKind: 'operator',
      actorId: operator.key,
      operation: 'key-ceremony.rejected',
      subjectKind: SUBJECT_KIND,
      subjectId: id,
      before: { state: request.state },
      after: { state: 'rejected' },
      detail: { operation: request.operation, reason },
    });
    return loadRequest(tx, id);
  });
}

/**
 * Executes an approved request once, by one of the operators who approved it.
 * Refused before approval, after execution or rejection, when the stored
 * parameters no longer match what every approver approved, or when fewer
 * than `required` approvers are still active operators. A failure of the
 * operation itself rolls everything back (the request stays approved, files
 * written are removed) and is audited as key-ceremony.execution-failed.
 */
export async function executeOperation(
  ctx: CeremonyContext,
  operator: Operator,
  id: string,
  runner: OperationRunner,
  beforeCommit?: BeforeCommit,
): Promise<KeyOperationRequest> {
  const undo = new UndoLog();
  try {
    return await step(ctx, operator, 'execute', id, beforeCommit, async (tx, now) => {
      const request = await lockRequest(tx, id);
      if (request.state === 'executed') {
        throw new CeremonyRefused('already-executed', `${id} was already executed at ${request.executedAt?.toISOString()} by ${request.executedBy}`);
      }
      if (request.state === 'rejected') throw new CeremonyRefused('rejected', `${id} was rejected`);
      if (request.state !== 'approved') {
        throw new CeremonyRefused(
          'not-approved',
          `${id} has ${request.approvals.length} of ${request.required} approvals: it cannot be executed yet`,
        );
      }
      const changed = request.approvals.filter((approval) => approval.parametersDigest !== request.parametersDigest);
      if (changed.length > 0) {
        throw new CeremonyRefused(
          'parameters-changed',
          `${id}: the stored parameters are not those approved by ${changed.map((approval) => approval.name).join(', ')}; reject it and request again`,
        );
      }
      const active = await stillActiveOperators(tx, request.approvals.map((approval) => approval.operator));
      if (active.size < request.required) {
        throw new CeremonyRefused('not-approved', `${id}: only ${active.size} of its approvers are still active operators (${request.required} required)`);
      }
      if (!request.approvals.some((approval) => approval.operator === operator.key)) {
        throw new CeremonyRefused('not-an-approver', `${operator.name} did not approve ${id}; one of its approvers executes it`);
      }
      // Validated again: the row may come from an older version of this tool.
      const parameters = validateParameters(request.operation, request.parameters);
      const outcome = await runner(tx, { id, operation: request.operation, parameters, now }, undo);
      await tx.query(
        `UPDATE key_operation_approval SET state = 'executed', executed_at = $2, executed_by = $3, result = $4 WHERE id = $1`,
        [id, now, operator.key, JSON.stringify(outcome.result)],
      );
      await appendAudit(tx, {
        at: now,
        actorKind: 'operator',
        actorId: operator.key,
        operation: 'key-ceremony.executed',
        subjectKind: outcome.subjectKind,
        subjectId: outcome.subjectId,
        before: { state: 'approved' },
        after: outcome.result,
        detail: {
          approvalId: id,
          operation: request.operation,
          parametersDigest: request.parametersDigest,
          approvedBy: request.approvals.map((approval) => approval.operator),
        },
      });
      return loadRequest(tx, id);
    });
  } catch (error) {
    await undo.run();
    if (!(error instanceof CeremonyRefused)) await auditFailure(ctx, operator, id, error);
    throw error;
  }
}

/** One request, or a not-found refusal. */
export async function showRequest(pool: Pool, id: string): Promise<KeyOperationRequest> {
  const client = await pool.connect();
  try {
    return await loadRequest(client, id);
  } finally {
    client.release();
  }
}

/** Requests, newest first, optionally in one state. */
export async function listRequests(pool: Pool, state?: RequestState): Promise<KeyOperationRequest[]> {
  const rows = await queryRows<RequestRow>(
    pool,
    `SELECT * FROM key_operation_approval WHERE ($1::text IS NULL OR state = $1) ORDER BY created_at DESC, id`,
    [state ?? null],
  );
  return rows.map(toRequest);
}

// ---------------------------------------------------------------------------

interface RequestRow {
  id: string;
  operation: string;
  parameters: Record<string, unknown>;
  requested_by: string;
  required: number;
  approvals: ApprovalEntry[];
  state: RequestState;
  created_at: Date;
  decided_at: Date | null;
  executed_at: Date | null;
  executed_by: string | null;
  result: Record<string, unknown> | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function lockRequest(tx: PoolClient, id: string): Promise<KeyOperationRequest> {
  if (!UUID.test(id)) throw new CeremonyRefused('not-found', `"${id}" is not a request id (a UUID)`);
  const rows = await queryRows<RequestRow>(tx, `SELECT * FROM key_operation_approval WHERE id = $1 FOR UPDATE`, [id]);
  if (!rows[0]) throw new CeremonyRefused('not-found', `no key operation request ${id}`);
  return toRequest(rows[0]);
}

async function loadRequest(db: PoolClient, id: string): Promise<KeyOperationRequest> {
  if (!UUID.test(id)) throw new CeremonyRefused('not-found', `"${id}" is not a request id (a UUID)`);
  const rows = await queryRows<RequestRow>(db, `SELECT * FROM key_operation_approval WHERE id = $1`, [id]);
  if (!rows[0]) throw new CeremonyRefused('not-found', `no key operation request ${id}`);
  return toRequest(rows[0]);
}

function toRequest(row: RequestRow): KeyOperationRequest {
  return {
    id: row.id,
    operation: row.operation as CeremonyOperation,
    parameters: row.parameters,
    parametersDigest: parametersDigest(row.operation, row.parameters),
    requestedBy: row.requested_by,
    required: row.required,
    approvals: row.approvals,
    state: row.state,
    createdAt: row.created_at,
    decidedAt: row.decided_at,
    executedAt: row.executed_at,
    executedBy: row.executed_by,
    result: row.result,
  };
}

function refuseUnlessPending(request: KeyOperationRequest): void {
  if (request.state === 'pending') return;
  if (request.state === 'approved') throw new CeremonyRefused('not-pending', `${request.id} is already approved`);
  if (request.state === 'executed') throw new CeremonyRefused('already-executed', `${request.id} was already executed`);
  throw new CeremonyRefused('rejected', `${request.id} was rejected`);
}

/** The parameters as the audit record keeps them: certificates by digest only (the request row has them whole). */
function auditedParameters(operation: CeremonyOperation, parameters: OperationParameters[CeremonyOperation]): Record<string, unknown> {
  if (operation !== 'import-parent-certificate') return { ...parameters };
  const { certificate: _certificate, parentCertificate: _parent, ...rest } = parameters as OperationParameters['import-parent-certificate'];
  return rest;
}

/**
 * One transaction, `beforeCommit` last in it; a CeremonyRefused rolls it back
 * and is then audited in a transaction of its own (key-ceremony.refused), so
 * attempts such as approving one's own request leave a trace.
 */
async function step(
  ctx: CeremonyContext,
  operator: Operator,
  attempted: string,
  id: string | null,
  beforeCommit: BeforeCommit | undefined,
  work: (tx: PoolClient, now: Date) => Promise<KeyOperationRequest>,
): Promise<KeyOperationRequest> {
  const now = ctx.now();
  try {
    return await inTransaction(ctx.pool, async (tx) => {
      const result = await work(tx, now);
      await beforeCommit?.(tx, result);
      return result;
    });
  } catch (error) {
    if (error instanceof CeremonyRefused) await auditRefusal(ctx, operator, attempted, id, error);
    throw error;
  }
}

async function auditRefusal(ctx: CeremonyContext, operator: Operator, attempted: string, id: string | null, refusal: CeremonyRefused): Promise<void> {
  await appendStandalone(ctx, {
    operation: 'key-ceremony.refused',
    actorId: operator.key,
    subjectId: id !== null && UUID.test(id) ? id : null,
    detail: { attempted, code: refusal.code, reason: refusal.message },
  });
}

async function auditFailure(ctx: CeremonyContext, operator: Operator, id: string, error: unknown): Promise<void> {
  await appendStandalone(ctx, {
    operation: 'key-ceremony.execution-failed',
    actorId: operator.key,
    subjectId: id,
    detail: { attempted: 'execute', reason: error instanceof Error ? error.message : String(error) },
  });
}

async function appendStandalone(
  ctx: CeremonyContext,
  record: { operation: string; actorId: string; subjectId: string | null; detail: Record<string, unknown> },
): Promise<void> {
  const tx = await ctx.pool.connect();
  try {
    await tx.query('BEGIN');
    await appendAudit(tx, {
      at: ctx.now(),
      actorKind: 'operator',
      actorId: record.actorId,
      operation: record.operation,
      subjectKind: record.subjectId ? SUBJECT_KIND : null,
      subjectId: record.subjectId,
      detail: record.detail,
    });
    await tx.query('COMMIT');
  } catch {
    await tx.query('ROLLBACK').catch(() => undefined);
  } finally {
    tx.release();
  }
}
