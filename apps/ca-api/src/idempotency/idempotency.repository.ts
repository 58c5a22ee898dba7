import { Inject, Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import { DataSource, EntityManager } from 'typeorm';
import { IdempotencyClaimLost, type IdempotencyTicket } from './idempotency-claim';

export interface IdempotencyRecord {
  requestSha256: Buffer;
  responseStatus: number | null;
  responseBody: unknown;
  createdAt: Date;
}

/**
 * A transaction the answer is recorded in: TypeORM's (most services) or a pg
 * client's (key operations, CRL publication: code shared with the CLIs).
 */
export type IdempotencyTransaction = EntityManager | PoolClient;

/** One request's claim on a key: `token` is drawn by PostgreSQL at each claim and take-over. */
export type IdempotencyClaimRef = Pick<IdempotencyTicket, 'principal' | 'key' | 'token'>;

/** SQL of the idempotency_key table. */
@Injectable()
export class IdempotencyRepository {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  /** Inserts the claim and returns its token; undefined when the key already exists for this principal. */
  async tryClaim(principal: string, key: string, requestSha256: Buffer, now: Date): Promise<string | undefined> {
    const rows: Array<{ claim_token: string }> = await this.dataSource.query(
      `INSERT INTO idempotency_key (principal, key, request_sha256, created_at, claim_token) VALUES ($1, $2, $3, $4, gen_random_uuid())
       ON CONFLICT (principal, key) DO NOTHING RETURNING claim_token`,
      [principal, key, requestSha256, now],
    );
    return rows[0]?.claim_token;
  }

  async find(principal: string, key: string): Promise<IdempotencyRecord | undefined> {
    const rows: Array<{ request_sha256: Buffer; response_status: number | null; response_body: unknown; created_at: Date }> =
      await this.dataSource.query(
        `SELECT request_sha256, response_status, response_body, created_at FROM idempotency_key WHERE principal = $1 AND key = $2`,
        [principal, key],
      );
    const row = rows[0];
    return row && { requestSha256: row.request_sha256, responseStatus: row.response_status, responseBody: row.response_body, createdAt: row.created_at };
  }

  /**
   * Takes over a claim left unfinished since `claimedAt` (a crashed or slow
   * request) under a new token, so the request that held it can no longer
   * complete or release it; undefined if someone else took it first.
   */
  async takeOver(principal: string, key: string, claimedAt: Date, now: Date): Promise<string | undefined> {
    // TypeORM returns [rows, affected] for an UPDATE on PostgreSQL.
    const [rows]: [Array<{ claim_token: string }>, number] = await this.dataSource.query(
      `UPDATE idempotency_key SET created_at = $4, claim_token = gen_random_uuid()
        WHERE principal = $1 AND key = $2 AND created_at = $3 AND completed_at IS NULL
       RETURNING claim_token`,
      [principal, key, claimedAt, now],
    );
    return rows[0]?.claim_token;
  }

  /**
   * Records the first answer, inside the caller's transaction when `tx`
   * is given; false (nothing written) when the claim is no longer this
   * request's (a retry took it over) or is already completed.
   */
  async complete(
    claim: IdempotencyClaimRef,
    status: number,
    body: unknown,
    now: Date,
    tx?: IdempotencyTransaction,
  ): Promise<boolean> {
    // TypeORM returns [rows, affected] for an UPDATE on PostgreSQL; pg returns a result with rowCount.
    const db: { query(sql: string, params: unknown[]): Promise<unknown> } = tx ?? this.dataSource;
    const result = (await db.query(
      `UPDATE idempotency_key SET response_status = $4, response_body = $5, completed_at = $6
        WHERE principal = $1 AND key = $2 AND claim_token = $3 AND completed_at IS NULL`,
      [claim.principal, claim.key, claim.token, status, JSON.stringify(body ?? null), now],
    )) as [unknown[], number] | { rowCount: number | null };
    return (Array.isArray(result) ? result[1] : result.rowCount) === 1;
  }

  /**
   * Records the answer in the transaction of the state change it reports and
   * marks the ticket completed. Throws IdempotencyClaimLost when a retry took
   * the claim over, so that the caller's transaction rolls back instead of
   * committing the operation a second time. Should that transaction still
   * fail (its COMMIT, or a step after this one), the interceptor frees the
   * claim all the same: its DELETE leaves a completed claim alone, so it only
   * removes one whose completion did not commit.
   */
  async completeInTransaction(tx: IdempotencyTransaction, ticket: IdempotencyTicket, status: number, body: unknown, now: Date): Promise<void> {
    if (!(await this.complete(ticket, status, body, now, tx))) {
      throw new IdempotencyClaimLost('its changes were rolled back');
    }
    ticket.completed = true;
  }

  /**
   * Forgets this request's unfinished claim so that a retry runs again (the
   * request failed without a state change). A claim taken over by a retry is
   * left alone: the retry may still be running.
   */
  async release(claim: IdempotencyClaimRef): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM idempotency_key WHERE principal = $1 AND key = $2 AND claim_token = $3 AND completed_at IS NULL`,
      [claim.principal, claim.key, claim.token],
    );
  }
}
