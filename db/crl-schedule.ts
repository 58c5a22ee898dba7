/**
 * CRL publication schedules, slots and the watchdog (docs/crl.md, "Schedules").
 *
 * - A schedule (crl_schedule, one per CA and kind) fires on an interval
 *   (aligned to the Unix epoch: every 3600 s fires on the hour) or a cron
 *   expression (read in cron_time_zone). Its `next_update_seconds` is the
 *   CRLs' validity (nextUpdate - thisUpdate).
 * - Exactly once per slot: the worker's per-minute tick inserts one
 *   crl_publication row per (CA, kind, slot) - UNIQUE, so any number of
 *   workers or ticks insert it once - and enqueues its job in the same
 *   transaction (graphile_worker.add_job, job_key = the publication id). A
 *   retried job skips the scopes this publication already stored
 *   (published_crl is unique per publication and scope).
 * - Watchdog: a scope whose newest CRL is older than its period plus half
 *   the slack (validity - period) is late - still well before its nextUpdate -
 *   and gets a recovery publication and an alert.
 */
import type { Pool, PoolClient } from 'pg';
import { CronExpressionParser } from 'cron-parser';
import type { CrlKind } from './crl-publication';
import { inTransaction } from './transaction';
import { appendAudit, type AuditRecord } from './audit-chain';

export const CRL_KINDS: readonly CrlKind[] = ['complete', 'partition', 'delta'];

/** A schedule as stored. Exactly one of cron and intervalSeconds. */
export interface CrlSchedule {
  caId: string;
  kind: CrlKind;
  cron: string | null;
  cronTimeZone: string;
  intervalSeconds: number | null;
  nextUpdateSeconds: number;
  enabled: boolean;
}

/**
 * Defaults for an issuing CA without schedules (DOMAIN.md: CRLs at least
 * daily): complete and partition CRLs daily, valid 36 h; deltas hourly,
 * valid 2 h. Operators change them through the API or `npm run crl -- schedule`.
 */
export const DEFAULT_SCHEDULES: Record<CrlKind, { intervalSeconds: number; nextUpdateSeconds: number }> = {
  complete: { intervalSeconds: 86_400, nextUpdateSeconds: 129_600 },
  partition: { intervalSeconds: 86_400, nextUpdateSeconds: 129_600 },
  delta: { intervalSeconds: 3_600, nextUpdateSeconds: 7_200 },
};

/** Shortest interval the per-minute tick can honour. */
export const MIN_INTERVAL_SECONDS = 60;

/** The period of a schedule in seconds: its interval, or the longest gap between its next 100 cron firings. */
export function periodSeconds(schedule: Pick<CrlSchedule, 'cron' | 'cronTimeZone' | 'intervalSeconds'>, now: Date): number {
  if (schedule.intervalSeconds !== null) return schedule.intervalSeconds;
  const expression = CronExpressionParser.parse(schedule.cron as string, { currentDate: now, tz: schedule.cronTimeZone });
  let previous = expression.next().getTime();
  let longest = 0;
  for (let i = 0; i < 100; i++) {
    const next = expression.next().getTime();
    longest = Math.max(longest, next - previous);
    previous = next;
  }
  return Math.round(longest / 1000);
}

/** The latest slot at or before `now`. */
export function latestSlot(schedule: Pick<CrlSchedule, 'cron' | 'cronTimeZone' | 'intervalSeconds'>, now: Date): Date {
  if (schedule.intervalSeconds !== null) {
    const step = schedule.intervalSeconds * 1000;
    return new Date(Math.floor(now.getTime() / step) * step);
  }
  const expression = CronExpressionParser.parse(schedule.cron as string, {
    currentDate: new Date(now.getTime() + 1),
    tz: schedule.cronTimeZone,
  });
  return new Date(expression.prev().getTime());
}

/**
 * The slack a schedule needs between its period and the CRLs' validity:
 * the larger of 5 minutes and a quarter of the period, so a failed
 * publication is retried, alerted and recovered before nextUpdate.
 */
export function minimumSlackSeconds(period: number): number {
  return Math.max(300, Math.ceil(period / 4));
}

/** Checks a schedule; returns the problems (empty when valid). */
export function scheduleProblems(input: {
  cron?: string | null;
  cronTimeZone?: string;
  intervalSeconds?: number | null;
  nextUpdateSeconds: number;
}, now: Date): string[] {
  const problems: string[] = [];
  const hasCron = typeof input.cron === 'string' && input.cron.trim() !== '';
  const hasInterval = typeof input.intervalSeconds === 'number';
  if (hasCron === hasInterval) return ['give exactly one of cron and intervalSeconds'];
  if (hasInterval && (!Number.isInteger(input.intervalSeconds) || (input.intervalSeconds as number) < MIN_INTERVAL_SECONDS)) {
    problems.push(`intervalSeconds must be an integer of at least ${MIN_INTERVAL_SECONDS}`);
  }
  const timeZone = input.cronTimeZone ?? 'Asia/Taipei';
  try {
    new Intl.DateTimeFormat('en', { timeZone });
  } catch {
    problems.push(`unknown time zone ${timeZone}`);
  }
  if (hasCron) {
    try {
      const fields = (input.cron as string).trim().split(/\s+/);
      if (fields.length !== 5) throw new Error('five fields');
      CronExpressionParser.parse(input.cron as string, { currentDate: now, tz: timeZone, strict: false });
    } catch {
      problems.push('cron must be a valid 5-field cron expression (minute hour day-of-month month day-of-week)');
    }
  }
  if (!Number.isInteger(input.nextUpdateSeconds) || input.nextUpdateSeconds <= 0) {
    problems.push('nextUpdateSeconds must be a positive integer');
  }
  if (problems.length > 0) return problems;
  const period = periodSeconds(
    { cron: hasCron ? (input.cron as string) : null, cronTimeZone: timeZone, intervalSeconds: hasInterval ? (input.intervalSeconds as number) : null },
    now,
  );
  const needed = period + minimumSlackSeconds(period);
  if (input.nextUpdateSeconds < needed) {
    problems.push(
      `nextUpdateSeconds (${input.nextUpdateSeconds}) must be at least the period (${period} s) plus ${minimumSlackSeconds(period)} s, ` +
        `so that a failed publication is retried before relying parties hold an expired CRL: at least ${needed}`,
    );
  }
  return problems;
}

type Db = Pool | PoolClient;

/**
 * The schedules of every active issuing CA, with the defaults written for
 * those that had none; complete and partition before delta, so that in a
 * CA's queue a delta runs after the base it needs.
 */
export async function loadSchedules(db: Db): Promise<CrlSchedule[]> {
  for (const kind of CRL_KINDS) {
    await db.query(
      `INSERT INTO crl_schedule (ca_id, kind, interval_seconds, next_update_seconds, updated_by)
       SELECT id, $1, $2, $3, 'default' FROM certificate_authority WHERE role = 'issuing' AND active
       ON CONFLICT (ca_id, kind) DO NOTHING`,
      [kind, DEFAULT_SCHEDULES[kind].intervalSeconds, DEFAULT_SCHEDULES[kind].nextUpdateSeconds],
    );
  }
  const { rows } = await db.query(
    `SELECT s.ca_id, s.kind, s.cron, s.cron_time_zone, s.interval_seconds, s.next_update_seconds, s.enabled
       FROM crl_schedule s JOIN certificate_authority c ON c.id = s.ca_id
      WHERE c.role = 'issuing' AND c.active
      ORDER BY s.ca_id, CASE s.kind WHEN 'complete' THEN 0 WHEN 'partition' THEN 1 ELSE 2 END`,
  );
  return rows.map(scheduleFromRow);
}

export function scheduleFromRow(row: Record<string, unknown>): CrlSchedule {
  return {
    caId: row.ca_id as string,
    kind: row.kind as CrlKind,
    cron: (row.cron as string | null) ?? null,
    cronTimeZone: (row.cron_time_zone as string) ?? 'Asia/Taipei',
    intervalSeconds: (row.interval_seconds as number | null) ?? null,
    nextUpdateSeconds: row.next_update_seconds as number,
    enabled: row.enabled as boolean,
  };
}

/** A publication request: a slot of a schedule, an operator's "publish now", or a watchdog recovery. */
export interface PublicationRequest {
  caId: string;
  kind: CrlKind;
  slotAt: Date;
  trigger: 'schedule' | 'manual' | 'recovery';
  requestedBy?: string;
  /** When it was requested (the caller's clock); now() of the database when absent. */
  requestedAt?: Date;
}

/** The task name and job options of a publication (graphile-worker). */
export const CRL_PUBLISH_TASK = 'crl-publish';
export const CRL_TICK_TASK = 'crl-tick';
/** Attempts before graphile-worker gives up; the watchdog starts a recovery publication long before. */
export const CRL_PUBLISH_MAX_ATTEMPTS = 12;

/**
 * Records a publication and enqueues its job in one transaction. Returns
 * the publication id and whether this call created it (false: that slot
 * was already taken, nothing enqueued).
 */
export async function requestPublication(pool: Pool, request: PublicationRequest): Promise<{ id: string; created: boolean }> {
  await ensureWorkerSchema(pool);
  return inTransaction(pool, (client) => requestPublicationIn(client, request));
}

/**
 * Several publications (in the order given: a delta after its base) and the
 * audit record of whoever asked, in one transaction: nothing is queued
 * unaudited, and no audit record names publications that were not queued.
 * `beforeCommit` runs last in that transaction (the API records its
 * Idempotency-Key answer there); if it throws, nothing is queued.
 */
export async function requestPublications(
  pool: Pool,
  requests: PublicationRequest[],
  audit: (ids: string[]) => AuditRecord,
  beforeCommit?: (client: PoolClient, ids: string[]) => Promise<void>,
): Promise<string[]> {
  await ensureWorkerSchema(pool);
  return inTransaction(pool, async (client) => {
    const ids: string[] = [];
    for (const request of requests) ids.push((await requestPublicationIn(client, request)).id);
    await appendAudit(client, audit(ids));
    await beforeCommit?.(client, ids);
    return ids;
  });
}

/**
 * `requestPublication` inside the caller's transaction (with its audit
 * record, say). graphile-worker's schema must exist: `requestPublication`
 * or a started worker creates it.
 */
export async function requestPublicationIn(client: PoolClient, request: PublicationRequest): Promise<{ id: string; created: boolean }> {
  const inserted = await client.query<{ id: string }>(
    `INSERT INTO crl_publication (ca_id, kind, slot_at, trigger, requested_by, requested_at)
     VALUES ($1, $2, $3, $4, $5, coalesce($6, now())) ON CONFLICT (ca_id, kind, slot_at) DO NOTHING RETURNING id`,
    [request.caId, request.kind, request.slotAt, request.trigger, request.requestedBy ?? null, request.requestedAt ?? null],
  );
  let id = inserted.rows[0]?.id;
  const created = id !== undefined;
  if (created) {
    // One queue per CA: its publications run one after the other (the advisory lock serialises them anyway).
    await client.query(
      `SELECT graphile_worker.add_job($1, json_build_object('publicationId', $2::text), queue_name => $3,
                                      max_attempts => $4, job_key => $5)`,
      [CRL_PUBLISH_TASK, id, `crl:${request.caId}`, CRL_PUBLISH_MAX_ATTEMPTS, `crl-publication:${id}`],
    );
  } else {
    const existing = await client.query<{ id: string }>(
      `SELECT id FROM crl_publication WHERE ca_id = $1 AND kind = $2 AND slot_at = $3`,
      [request.caId, request.kind, request.slotAt],
    );
    id = existing.rows[0].id;
  }
  return { id: id as string, created };
}

const schemaReady = new WeakSet<Pool>();

/** graphile-worker's schema (its add_job function) exists once a worker has started; create it otherwise. */
export async function ensureWorkerSchema(pool: Pool): Promise<void> {
  if (schemaReady.has(pool)) return;
  const { rows } = await pool.query(`SELECT to_regproc('graphile_worker.add_job') IS NOT NULL AS ready`);
  if (!rows[0].ready) {
    // graphile-worker is ESM-only; require(esm) loads it from CommonJS on Node 24.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { runMigrations } = require('graphile-worker') as typeof import('graphile-worker');
    // Its own short-lived pool when the connection string is known: graphile-worker warns about (and
    // would install) error handlers on a borrowed pool, which belongs to the caller.
    const connectionString = (pool as Pool & { options?: { connectionString?: string } }).options?.connectionString;
    await runMigrations(connectionString ? { connectionString } : { pgPool: pool });
  }
  schemaReady.add(pool);
}

/** A scope whose newest CRL is late, as the watchdog sees it. */
export interface LateCrl {
  caId: string;
  caName: string;
  kind: CrlKind;
  partition: number | null;
  thisUpdate: Date | null;
  nextUpdate: Date | null;
  lateSince: Date | null;
}

/**
 * The scopes (complete, each partition, each delta) whose newest CRL is
 * older than its schedule's period plus half the slack, or that have none
 * although their schedule has run for longer than that.
 */
export async function findLateCrls(db: Db, schedules: CrlSchedule[], now: Date): Promise<LateCrl[]> {
  const late: LateCrl[] = [];
  const byCa = new Map<string, CrlSchedule[]>();
  for (const s of schedules) if (s.enabled) byCa.set(s.caId, [...(byCa.get(s.caId) ?? []), s]);
  for (const [caId, caSchedules] of byCa) {
    const found = await db.query(
      `SELECT name, crl_partitions, (SELECT min(requested_at) FROM crl_publication WHERE ca_id = $1) AS first_request
         FROM certificate_authority WHERE id = $1`,
      [caId],
    );
    const ca = found.rows[0];
    if (!ca) continue;
    const partitions = Array.from({ length: ca.crl_partitions as number }, (_, p) => p);
    const latest = new Map(
      (await newestCrls(db, caId, ca.crl_partitions as number)).map((l) => [`${l.kind}:${l.partition ?? ''}`, l]),
    );
    for (const schedule of caSchedules) {
      const period = periodSeconds(schedule, now);
      const allowance = period + Math.max(0, schedule.nextUpdateSeconds - period) / 2;
      const scheduled: Array<number | null> =
        schedule.kind === 'complete' ? [null] : schedule.kind === 'delta' ? [null, ...partitions] : partitions;
      for (const partition of scheduled) {
        const newestCrl = latest.get(`${schedule.kind}:${partition ?? ''}`);
        const since = newestCrl ? newestCrl.thisUpdate : (ca.first_request as Date | null);
        if (!since) continue; // never requested yet: the tick's first slot is on its way
        const lateSince = new Date(since.getTime() + allowance * 1000);
        if (now.getTime() >= lateSince.getTime()) {
          late.push({
            caId,
            caName: ca.name as string,
            kind: schedule.kind,
            partition,
            thisUpdate: newestCrl?.thisUpdate ?? null,
            nextUpdate: newestCrl?.nextUpdate ?? null,
            lateSince,
          });
        }
      }
    }
  }
  return late;
}

/** The newest CRL of a scope. */
export interface NewestCrl {
  kind: CrlKind;
  partition: number | null;
  crlNumber: string;
  thisUpdate: Date;
  nextUpdate: Date;
}

/**
 * The newest CRL of every scope of a CA (complete, each partition, each
 * delta): one index-backed `LIMIT 1` per scope, never a scan of the history.
 * Scopes never published are absent.
 */
export async function newestCrls(db: Db, caId: string, crlPartitions: number): Promise<NewestCrl[]> {
  const partitions = Array.from({ length: crlPartitions }, (_, p) => p);
  const scopes: Array<[CrlKind, number | null]> = [
    ['complete', null],
    ...partitions.map((p): [CrlKind, number] => ['partition', p]),
    ['delta', null],
    ...partitions.map((p): [CrlKind, number] => ['delta', p]),
  ];
  const { rows } = await db.query(
    scopes
      .map(
        ([kind, p]) =>
          `(SELECT kind, partition, crl_number, this_update, next_update FROM published_crl
             WHERE ca_id = $1 AND kind = '${kind}' AND ${p === null ? 'partition IS NULL' : `partition = ${Number(p)}`}
             ORDER BY crl_number DESC LIMIT 1)`,
      )
      .join(' UNION ALL '),
    [caId],
  );
  return rows.map((row) => ({
    kind: row.kind,
    partition: row.partition,
    crlNumber: String(row.crl_number),
    thisUpdate: row.this_update,
    nextUpdate: row.next_update,
  }));
}

/** What one tick did. */
export interface TickResult {
  enqueued: Array<{ caId: string; kind: CrlKind; slotAt: Date; id: string }>;
  late: LateCrl[];
  recoveries: Array<{ caId: string; kind: CrlKind; id: string }>;
}

/**
 * The per-minute tick: writes default schedules for new CAs, requests the
 * latest slot of every enabled schedule (exactly once, see the file
 * comment), and requests a recovery publication for each kind that has a
 * late scope and no publication still open.
 */
export async function crlTick(pool: Pool, now: Date): Promise<TickResult> {
  const schedules = await loadSchedules(pool);
  const result: TickResult = { enqueued: [], late: [], recoveries: [] };
  for (const schedule of schedules) {
    if (!schedule.enabled) continue;
    const slotAt = latestSlot(schedule, now);
    const { id, created } = await requestPublication(pool, {
      caId: schedule.caId,
      kind: schedule.kind,
      slotAt,
      trigger: 'schedule',
      requestedAt: now,
    });
    if (created) result.enqueued.push({ caId: schedule.caId, kind: schedule.kind, slotAt, id });
  }
  result.late = await findLateCrls(pool, schedules, now);
  const lateKinds = new Set(result.late.map((l) => `${l.caId}|${l.kind}`));
  for (const key of lateKinds) {
    const [caId, kind] = key.split('|') as [string, CrlKind];
    const open = await pool.query(`SELECT 1 FROM crl_publication WHERE ca_id = $1 AND kind = $2 AND state <> 'published' AND requested_at > $3 LIMIT 1`, [
      caId,
      kind,
      new Date(now.getTime() - 10 * 60_000),
    ]);
    if (open.rows.length > 0) continue; // one is being tried; it alerts on each failure
    const slotAt = new Date(Math.floor(now.getTime() / 60_000) * 60_000);
    const { id, created } = await requestPublication(pool, { caId, kind, slotAt, trigger: 'recovery', requestedAt: now });
    if (created) result.recoveries.push({ caId, kind, id });
  }
  return result;
}
