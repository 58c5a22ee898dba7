import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

export interface IdempotencyRecord {
  requestSha256: Buffer;
  responseStatus: number | null;
  responseBody: unknown;
  createdAt: Date;
}

/** SQL of the idempotency_key table. */
@Injectable()
export class IdempotencyRepository {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  /** Inserts the claim; false when the key already exists for this principal. */
  async tryClaim(principal: string, key: string, requestSha256: Buffer, now: Date): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `INSERT INTO idempotency_key (principal, key, request_sha256, created_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (principal, key) DO NOTHING RETURNING key`,
      [principal, key, requestSha256, now],
    );
    return rows.length === 1;
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

  /** Takes over a claim left unfinished since `claimedAt` (a crashed request); false if someone else did. */
  async takeOver(principal: string, key: string, claimedAt: Date, now: Date): Promise<boolean> {
    // TypeORM returns [rows, affected] for an UPDATE on PostgreSQL.
    const [, affected]: [unknown[], number] = await this.dataSource.query(
      `UPDATE idempotency_key SET created_at = $4
        WHERE principal = $1 AND key = $2 AND created_at = $3 AND completed_at IS NULL`,
      [principal, key, claimedAt, now],
    );
    return affected === 1;
  }

  /** Records the first answer; inside the caller's transaction when `manager` is given. */
  async complete(
    principal: string,
    key: string,
    status: number,
    body: unknown,
    now: Date,
    manager?: EntityManager,
  ): Promise<void> {
    await (manager ?? this.dataSource).query(
      `UPDATE idempotency_key SET response_status = $3, response_body = $4, completed_at = $5
        WHERE principal = $1 AND key = $2 AND completed_at IS NULL`,
      [principal, key, status, JSON.stringify(body ?? null), now],
    );
  }

  /** Forgets an unfinished claim so that a retry runs again (the request failed without a state change). */
  async release(principal: string, key: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM idempotency_key WHERE principal = $1 AND key = $2 AND completed_at IS NULL`, [
      principal,
      key,
    ]);
  }
}
