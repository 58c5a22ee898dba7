import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import { appendAudit, AuditRecord, inTransaction } from '@moica/db';
import { readPublishedCrlDer } from '../../../../db/crl-copy';
import type { CrlKind } from '../../../../db/crl-publication';
import { newestCrls, PublicationRequest, requestPublications } from '../../../../db/crl-schedule';

export interface CaRow {
  id: string;
  name: string;
  crl_partitions: number;
}

export interface ScheduleRow {
  kind: CrlKind;
  cron: string | null;
  cron_time_zone: string;
  interval_seconds: number | null;
  next_update_seconds: number;
  enabled: boolean;
  updated_by: string | null;
}

export interface PublicationRow {
  id: string;
  kind: CrlKind;
  slot_at: Date;
  trigger: string;
  state: string;
  attempts: number;
  last_error: string | null;
  requested_by: string | null;
  requested_at: Date;
  published_at: Date | null;
}

export interface PublishedCrlRow {
  id: string;
  crl_number: string;
  kind: CrlKind;
  partition: number | null;
  base_crl_number: string | null;
  this_update: Date;
  next_update: Date;
  entry_count: number;
  byte_size: number;
  sha256: Buffer;
  publication_id: string | null;
}

/** SQL of the CRL operator API (schedules, publications, published CRLs, health). */
@Injectable()
export class CrlOperatorRepository {
  private readonly pool: Pool;

  constructor(@Inject(DataSource) dataSource: DataSource) {
    // TypeORM's PostgreSQL driver keeps its pg Pool as `master`: publication requests need plain pg clients.
    this.pool = (dataSource.driver as unknown as { master: Pool }).master;
  }

  async issuingCa(caId: string): Promise<CaRow | undefined> {
    const { rows } = await this.pool.query<CaRow>(
      `SELECT id, name, crl_partitions FROM certificate_authority WHERE id = $1 AND role = 'issuing'`,
      [caId],
    );
    return rows[0];
  }

  async schedules(caId: string): Promise<ScheduleRow[]> {
    const { rows } = await this.pool.query<ScheduleRow>(
      `SELECT kind, cron, cron_time_zone, interval_seconds, next_update_seconds, enabled, updated_by
         FROM crl_schedule WHERE ca_id = $1 ORDER BY kind`,
      [caId],
    );
    return rows;
  }

  /**
   * Writes a schedule and its audit record in one transaction, `beforeCommit`
   * last in it (the Idempotency-Key answer); returns the previous schedule.
   */
  async saveSchedule(
    caId: string,
    kind: CrlKind,
    schedule: Omit<ScheduleRow, 'kind'>,
    audit: AuditRecord,
    beforeCommit: (client: PoolClient) => Promise<void>,
  ): Promise<ScheduleRow | undefined> {
    return inTransaction(this.pool, async (client) => {
      const before = await client.query<ScheduleRow>(
        `SELECT kind, cron, cron_time_zone, interval_seconds, next_update_seconds, enabled, updated_by
           FROM crl_schedule WHERE ca_id = $1 AND kind = $2 FOR UPDATE`,
        [caId, kind],
      );
      await client.query(
        `INSERT INTO crl_schedule (ca_id, kind, cron, cron_time_zone, interval_seconds, next_update_seconds, enabled, updated_by, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (ca_id, kind) DO UPDATE SET cron = EXCLUDED.cron, cron_time_zone = EXCLUDED.cron_time_zone,
           interval_seconds = EXCLUDED.interval_seconds, next_update_seconds = EXCLUDED.next_update_seconds,
           enabled = EXCLUDED.enabled, updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at`,
        [
          caId,
          kind,
          schedule.cron,
          schedule.cron_time_zone,
          schedule.interval_seconds,
          schedule.next_update_seconds,
          schedule.enabled,
          schedule.updated_by,
          audit.at,
        ],
      );
      await appendAudit(client, { ...audit, before: before.rows[0] ? { ...before.rows[0] } : null });
      await beforeCommit(client);
      return before.rows[0];
    });
  }

  /**
   * Records the publications, the operator's audit record and, last,
   * `beforeCommit` (the Idempotency-Key answer) in one transaction: nothing is
   * queued unaudited, nor by a request whose claim a retry took over.
   */
  async requestPublications(
    requests: PublicationRequest[],
    audit: (ids: string[]) => AuditRecord,
    beforeCommit: (client: PoolClient, ids: string[]) => Promise<void>,
  ): Promise<string[]> {
    return requestPublications(this.pool, requests, audit, beforeCommit);
  }

  /** Publications of a CA, newest first; `db` is a transaction's client to read its own rows. */
  async publications(caId: string, ids: string[] | undefined, limit: number, db: Pool | PoolClient = this.pool): Promise<PublicationRow[]> {
    const { rows } = await db.query<PublicationRow>(
      `SELECT id, kind, slot_at, trigger, state, attempts, last_error, requested_by, requested_at, published_at
         FROM crl_publication WHERE ca_id = $1 ${ids ? 'AND id = ANY($3::uuid[])' : ''}
        ORDER BY requested_at DESC, slot_at DESC LIMIT $2`,
      ids ? [caId, limit, ids] : [caId, limit],
    );
    return rows;
  }

  async publishedCrls(
    caId: string,
    filter: { kind?: CrlKind; partition?: number; beforeNumber?: string; limit: number },
  ): Promise<PublishedCrlRow[]> {
    const where = ['ca_id = $1'];
    const values: unknown[] = [caId];
    if (filter.kind) where.push(`kind = $${values.push(filter.kind)}`);
    if (filter.partition !== undefined) where.push(`partition = $${values.push(filter.partition)}`);
    if (filter.beforeNumber) where.push(`crl_number < $${values.push(filter.beforeNumber)}::bigint`);
    values.push(filter.limit);
    const { rows } = await this.pool.query<PublishedCrlRow>(
      `SELECT id, crl_number, kind, partition, base_crl_number, this_update, next_update, entry_count, byte_size, sha256, publication_id
         FROM published_crl WHERE ${where.join(' AND ')} ORDER BY crl_number DESC LIMIT $${values.length}`,
      values,
    );
    return rows;
  }

  /** The DER of one published CRL (operators' download of an earlier CRL), by binary COPY. */
  async publishedCrlDer(id: string): Promise<{ der: Buffer; crlNumber: string; caId: string } | undefined> {
    const { rows } = await this.pool.query<{ crl_number: string; ca_id: string }>(`SELECT crl_number, ca_id FROM published_crl WHERE id = $1`, [id]);
    if (!rows[0]) return undefined;
    const der = await readPublishedCrlDer(this.pool, id);
    return der && { der, crlNumber: String(rows[0].crl_number), caId: rows[0].ca_id };
  }

  /** Per active issuing CA and scope: the newest CRL's times; and open publications that failed at least once. */
  async health(): Promise<{
    latest: Array<{ ca: string; kind: CrlKind; partition: number | null; crl_number: string; this_update: Date; next_update: Date }>;
    failing: Array<{ ca: string; kind: CrlKind; publications: number; attempts: number }>;
  }> {
    const cas = await this.pool.query<{ id: string; name: string; crl_partitions: number }>(
      `SELECT id, name, crl_partitions FROM certificate_authority WHERE active AND role = 'issuing' ORDER BY name`,
    );
    const latest = [];
    for (const ca of cas.rows) {
      for (const crl of await newestCrls(this.pool, ca.id, ca.crl_partitions)) {
        latest.push({ ca: ca.name, kind: crl.kind, partition: crl.partition, crl_number: crl.crlNumber, this_update: crl.thisUpdate, next_update: crl.nextUpdate });
      }
    }
    const failing = await this.pool.query(
      `SELECT c.name AS ca, p.kind, count(*)::int AS publications, sum(p.attempts)::int AS attempts
         FROM crl_publication p JOIN certificate_authority c ON c.id = p.ca_id
        WHERE p.state = 'failing' GROUP BY c.name, p.kind`,
    );
    return { latest, failing: failing.rows };
  }
}
