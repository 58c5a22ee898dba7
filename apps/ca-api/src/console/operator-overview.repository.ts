import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { effectiveStateSql } from './effective-state.sql';

/** One day (Asia/Taipei calendar) of the overview's charts. */
export interface DailyActivityRow {
  day: string;
  issued: number;
  renewed: number;
  revoked: number;
}

export interface ExpiryRow {
  kind: 'ca' | 'ocsp-signer';
  name: string;
  role: string;
  active: boolean;
  notAfter: Date;
}

/** SQL of the console's overview: every figure is computed by PostgreSQL, never by reading rows into the app. */
@Injectable()
export class OperatorOverviewRepository {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  /** Holder certificates (signature and encryption) by effective state at `now`. */
  async certificatesByState(now: Date): Promise<Record<string, number>> {
    const rows: Array<{ state: string; count: number }> = await this.dataSource.query(
      `SELECT ${effectiveStateSql('c', '$1')} AS state, count(*)::int AS count
         FROM certificate c
        WHERE c.kind IN ('signature', 'encryption') AND c.status NOT IN ('pending', 'abandoned')
        GROUP BY 1`,
      [now],
    );
    return Object.fromEntries(rows.map((row) => [row.state, row.count]));
  }

  /**
   * Issuances (first certificates of a card), renewals (certificates with
   * renewed_from_id) and revocations per Taiwan calendar day over the `days`
   * days ending on the day of `now`, from the certificates' status history
   * (issuance is the event leaving 'pending'). Days without events are zeros.
   */
  async dailyActivity(now: Date, days: number): Promise<DailyActivityRow[]> {
    return this.dataSource.query(
      `WITH bounds AS (SELECT ($1::timestamptz AT TIME ZONE 'Asia/Taipei')::date AS today),
            days AS (SELECT generate_series(today - ($2::int - 1), today, interval '1 day')::date AS day FROM bounds),
            events AS (
              SELECT (e.at AT TIME ZONE 'Asia/Taipei')::date AS day,
                     count(*) FILTER (WHERE e.from_status = 'pending' AND c.renewed_from_id IS NULL) AS issued,
                     count(*) FILTER (WHERE e.from_status = 'pending' AND c.renewed_from_id IS NOT NULL) AS renewed,
                     count(*) FILTER (WHERE e.to_status = 'revoked') AS revoked
                FROM certificate_status_event e JOIN certificate c ON c.id = e.certificate_id, bounds
               WHERE e.at >= ((bounds.today - ($2::int - 1))::timestamp AT TIME ZONE 'Asia/Taipei')
                 AND c.kind IN ('signature', 'encryption')
               GROUP BY 1)
       SELECT to_char(d.day, 'YYYY-MM-DD') AS day, coalesce(e.issued, 0)::int AS issued,
              coalesce(e.renewed, 0)::int AS renewed, coalesce(e.revoked, 0)::int AS revoked
         FROM days d LEFT JOIN events e ON e.day = d.day ORDER BY d.day`,
      [now, days],
    );
  }

  /** The CA certificates and OCSP signers with their expiry, soonest first. */
  async expiries(): Promise<ExpiryRow[]> {
    return this.dataSource.query(
      `SELECT 'ca' AS kind, name, role, active, not_after AS "notAfter" FROM certificate_authority
        UNION ALL
       SELECT 'ocsp-signer', ca.name, 'ocsp-signer', s.active, s.not_after
         FROM ocsp_signer s JOIN certificate_authority ca ON ca.id = s.ca_id
        ORDER BY "notAfter"`,
    );
  }

  /**
   * Jobs whose attempts are exhausted, per task: graphile-worker will not run
   * them again unless an operator retries them. (A job between attempts is
   * still being retried, and needs no one yet.)
   */
  async failedJobs(): Promise<Array<{ task: string; count: number }>> {
    return this.dataSource.query(
      `SELECT task_identifier AS task, count(*)::int AS count FROM graphile_worker.jobs
        WHERE locked_at IS NULL AND attempts >= max_attempts
        GROUP BY 1 ORDER BY 1`,
    );
  }

  async pendingApprovals(): Promise<number> {
    const rows: Array<{ count: number }> = await this.dataSource.query(
      `SELECT count(*)::int AS count FROM key_operation_approval WHERE state IN ('pending', 'approved')`,
    );
    return rows[0].count;
  }
}
