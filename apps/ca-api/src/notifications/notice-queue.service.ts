import { queryRows, type Queryable } from './queryable';

/** One job of the graphile-worker queue, as operators see it (the payload holds ids only). */
export interface QueuedJob {
  readonly id: string;
  readonly task: string;
  readonly key: string | null;
  readonly runAt: Date;
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly lastError: string | null;
  readonly lockedAt: Date | null;
}

/** One notice, without any address. */
export interface NoticeSummary {
  readonly id: string;
  readonly kind: string;
  readonly channel: string;
  readonly addressee: string;
  readonly state: string;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly dueAt: Date;
  readonly lastAttemptAt: Date | null;
  readonly sentAt: Date | null;
  readonly certificateId: string | null;
  readonly holderId: string;
}

export interface JobCounts {
  readonly task: string;
  /** Ready or scheduled, not yet tried. */
  readonly pending: number;
  /** Tried and failed, waiting for the next attempt (backoff). */
  readonly retrying: number;
  /** Locked by a worker now. */
  readonly running: number;
  /** Attempts exhausted: graphile-worker will not run them again. */
  readonly failed: number;
}

export interface NoticeQueueStatus {
  readonly jobs: readonly JobCounts[];
  readonly pendingJobs: readonly QueuedJob[];
  readonly failedJobs: readonly QueuedJob[];
  /** Notice counts by kind, channel and state (sent and skipped: the last 30 days). */
  readonly notices: ReadonlyArray<{ kind: string; channel: string; state: string; count: number }>;
  /** Notices that failed for good: what operators act on. */
  readonly failedNotices: readonly NoticeSummary[];
  /** The most recent deliveries (graphile-worker deletes finished jobs; the notice rows remain). */
  readonly recentNotices: readonly NoticeSummary[];
  readonly scannedThrough: Date | null;
}

const JOB_COLUMNS = `id::text, task_identifier AS task, key, run_at, attempts, max_attempts, last_error, locked_at`;

interface JobRow {
  id: string;
  task: string;
  key: string | null;
  run_at: Date;
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  locked_at: Date | null;
}

function toJob(row: JobRow): QueuedJob {
  return {
    id: row.id,
    task: row.task,
    key: row.key,
    runAt: row.run_at,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    lastError: row.last_error,
    lockedAt: row.locked_at,
  };
}

const NOTICE_COLUMNS = `id::text, kind, channel, addressee, state, attempts, last_error, due_at, last_attempt_at, sent_at, certificate_id, holder_id`;

interface NoticeRow {
  id: string;
  kind: string;
  channel: string;
  addressee: string;
  state: string;
  attempts: number;
  last_error: string | null;
  due_at: Date;
  last_attempt_at: Date | null;
  sent_at: Date | null;
  certificate_id: string | null;
  holder_id: string;
}

function toNotice(row: NoticeRow): NoticeSummary {
  return {
    id: row.id,
    kind: row.kind,
    channel: row.channel,
    addressee: row.addressee,
    state: row.state,
    attempts: row.attempts,
    lastError: row.last_error,
    dueAt: row.due_at,
    lastAttemptAt: row.last_attempt_at,
    sentAt: row.sent_at,
    certificateId: row.certificate_id,
    holderId: row.holder_id,
  };
}

async function jobCounts(db: Queryable): Promise<JobCounts[]> {
  const rows = await queryRows<{ task: string; pending: number; retrying: number; running: number; failed: number }>(
    db,
    `SELECT task_identifier AS task,
            count(*) FILTER (WHERE locked_at IS NULL AND attempts = 0)::int AS pending,
            count(*) FILTER (WHERE locked_at IS NULL AND attempts > 0 AND attempts < max_attempts)::int AS retrying,
            count(*) FILTER (WHERE locked_at IS NOT NULL)::int AS running,
            count(*) FILTER (WHERE locked_at IS NULL AND attempts >= max_attempts)::int AS failed
       FROM graphile_worker.jobs GROUP BY task_identifier ORDER BY task_identifier`,
  );
  return rows;
}

/**
 * What the operator endpoint shows (issue 8: "Operators can see the queue"):
 * job counts per task and state, the next pending jobs, failed jobs, notice
 * counts, failed notices and recent deliveries. No address or name: notices
 * are identified by id, holder id and certificate id.
 */
export async function noticeQueueStatus(db: Queryable, options: { now: Date; limit?: number }): Promise<NoticeQueueStatus> {
  const limit = Math.min(Math.max(options.limit ?? 50, 1), 500);
  const since = new Date(options.now.getTime() - 30 * 86_400_000);
  const [jobs, pendingJobs, failedJobs, notices, failedNotices, recentNotices, cursor] = await Promise.all([
    jobCounts(db),
    queryRows<JobRow>(db, `SELECT ${JOB_COLUMNS} FROM graphile_worker.jobs WHERE attempts < max_attempts ORDER BY run_at, id LIMIT $1`, [limit]),
    queryRows<JobRow>(
      db,
      `SELECT ${JOB_COLUMNS} FROM graphile_worker.jobs WHERE attempts >= max_attempts OR last_error IS NOT NULL
        ORDER BY updated_at DESC LIMIT $1`,
      [limit],
    ),
    queryRows<{ kind: string; channel: string; state: string; count: number }>(
      db,
      `SELECT kind, channel, state, count(*)::int AS count FROM notice
        WHERE state IN ('pending', 'sending', 'failed') OR created_at >= $1
        GROUP BY kind, channel, state ORDER BY kind, channel, state`,
      [since],
    ),
    queryRows<NoticeRow>(db, `SELECT ${NOTICE_COLUMNS} FROM notice WHERE state = 'failed' ORDER BY id DESC LIMIT $1`, [limit]),
    queryRows<NoticeRow>(
      db,
      `SELECT ${NOTICE_COLUMNS} FROM notice WHERE sent_at IS NOT NULL ORDER BY sent_at DESC LIMIT $1`,
      [limit],
    ),
    queryRows<{ scanned_through: Date }>(db, `SELECT scanned_through FROM notice_scan WHERE id = 1`),
  ]);
  return {
    jobs,
    pendingJobs: pendingJobs.map(toJob),
    failedJobs: failedJobs.map(toJob),
    notices,
    failedNotices: failedNotices.map(toNotice),
    recentNotices: recentNotices.map(toNotice),
    scannedThrough: cursor[0]?.scanned_through ?? null,
  };
}

function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/**
 * The queue as Prometheus metrics (text exposition format 0.0.4), for the
 * operator API's /metrics:
 * - moica_worker_jobs{task,state}: graphile-worker jobs (pending, retrying, running, failed);
 * - moica_notices{kind,channel,state}: open notices (pending, sending) and failed ones;
 * - moica_notices_sent_24h{kind,channel}: deliveries in the last 24 hours;
 * - moica_notice_scan_through_seconds: the scan cursor (alert when it lags a day).
 */
export async function noticeQueueMetrics(db: Queryable, options: { now: Date }): Promise<string> {
  const [jobs, open, sent, cursor] = await Promise.all([
    jobCounts(db),
    queryRows<{ kind: string; channel: string; state: string; count: number }>(
      db,
      `SELECT kind, channel, state, count(*)::int AS count FROM notice
        WHERE state IN ('pending', 'sending', 'failed') GROUP BY kind, channel, state ORDER BY 1, 2, 3`,
    ),
    queryRows<{ kind: string; channel: string; count: number }>(
      db,
      `SELECT kind, channel, count(*)::int AS count FROM notice WHERE sent_at >= $1 GROUP BY kind, channel ORDER BY 1, 2`,
      [new Date(options.now.getTime() - 86_400_000)],
    ),
    queryRows<{ scanned_through: Date }>(db, `SELECT scanned_through FROM notice_scan WHERE id = 1`),
  ]);
  const lines = [
    '# HELP moica_worker_jobs Jobs in the graphile-worker queue, by task and state.',
    '# TYPE moica_worker_jobs gauge',
  ];
  for (const row of jobs) {
    for (const state of ['pending', 'retrying', 'running', 'failed'] as const) {
      lines.push(`moica_worker_jobs{task="${label(row.task)}",state="${state}"} ${row[state]}`);
    }
  }
  lines.push('# HELP moica_notices Notices not yet delivered, and those that failed for good.', '# TYPE moica_notices gauge');
  for (const row of open) {
    lines.push(`moica_notices{kind="${label(row.kind)}",channel="${row.channel}",state="${row.state}"} ${row.count}`);
  }
  lines.push('# HELP moica_notices_sent_24h Notices delivered in the last 24 hours.', '# TYPE moica_notices_sent_24h gauge');
  for (const row of sent) {
    lines.push(`moica_notices_sent_24h{kind="${label(row.kind)}",channel="${row.channel}"} ${row.count}`);
  }
  lines.push(
    '# HELP moica_notice_scan_through_seconds The instant the lifecycle-notice scan has covered (Unix time).',
    '# TYPE moica_notice_scan_through_seconds gauge',
  );
  if (cursor[0]) lines.push(`moica_notice_scan_through_seconds ${Math.floor(cursor[0].scanned_through.getTime() / 1000)}`);
  return `${lines.join('\n')}\n`;
}
