import type { Pool } from 'pg';
import { noticeApplies, noticeSchedule, noticesDue } from '@moica/policy';
import type { Clock } from '@moica/platform';
import { DEFAULT_NOTICE_CHANNELS, DEFAULT_NOTICE_MAX_ATTEMPTS } from './notice-kinds';
import {
  advanceScanCursor,
  currentCertificatesEndingIn,
  insertLifecycleNotices,
  scannedThrough,
  type CardCertificate,
  type LifecycleNoticeRow,
} from './notice.repository';
import { noticeCandidateRanges, sliceRanges } from './notice-scan-range';

export interface NoticeScanOptions {
  /** Width of one batch, in days of notAfter (about certificates/2900 rows per day at a uniform spread). */
  readonly sliceDays?: number;
  readonly maxAttempts?: number;
  /** Only find and decide, write nothing (the benchmark's "find" figure). */
  readonly dryRun?: boolean;
  /**
   * Scan from this instant instead of the stored cursor (null: as a first
   * scan, everything due now). For operators re-scanning after restoring a
   * backup, and for the benchmark.
   */
  readonly since?: Date | null;
}

export interface NoticeScanReport {
  readonly since: Date | null;
  readonly until: Date;
  readonly batches: number;
  readonly certificatesExamined: number;
  /** Notices found due now (before de-duplication against those already recorded). */
  readonly due: number;
  /** Notices created and queued by this scan (0 for those another scan created first). */
  readonly queued: number;
  /** Notices whose moment passed while no scan ran: recorded as skipped, never sent. */
  readonly skipped: number;
}

/**
 * The daily scan for lifecycle notices (docs/notices.md). It covers the span
 * (scanned_through, now]: a notice is created when its due instant lies in
 * that span and the policy says it is due now (`noticesDue`: due, not stale,
 * applicable); a notice due in that span whose stale instant has also passed
 * (the worker was down) is recorded as skipped, never sent late. The first
 * scan has no cursor and creates every notice due now.
 *
 * Certificates are read by notAfter ranges (noticeCandidateRanges), one slice
 * per transaction; a crash mid-way leaves the cursor where it was, and the
 * next scan re-creates nothing that exists (unique index). Several scans at
 * once are harmless for the same reason.
 */
export async function scanNotices(pool: Pool, clock: Clock, options: NoticeScanOptions = {}): Promise<NoticeScanReport> {
  const until = clock.now();
  const cursor = options.since !== undefined ? options.since : await scannedThrough(pool);
  const since = cursor && cursor.getTime() < until.getTime() ? cursor : null;
  if (cursor && !since) {
    return { since: cursor, until, batches: 0, certificatesExamined: 0, due: 0, queued: 0, skipped: 0 };
  }
  const slices = sliceRanges(noticeCandidateRanges(since, until), options.sliceDays ?? 7);
  let examined = 0;
  let due = 0;
  let queued = 0;
  let skipped = 0;
  for (const slice of slices) {
    const certificates = await currentCertificatesEndingIn(pool, slice.from, slice.to);
    examined += certificates.length;
    const rows = certificates.flatMap((certificate) => decide(certificate, since, until));
    due += rows.filter((row) => row.state === 'pending').length;
    if (options.dryRun || rows.length === 0) continue;
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const result = await insertLifecycleNotices(client, rows, options.maxAttempts ?? DEFAULT_NOTICE_MAX_ATTEMPTS);
      await client.query('COMMIT');
      queued += result.queued;
      skipped += result.skipped;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw new Error(`notice scan: batch of notAfter ${slice.from.toISOString()}..${slice.to.toISOString()}`, { cause: error });
    } finally {
      client.release();
    }
  }
  if (!options.dryRun) await advanceScanCursor(pool, until);
  return { since, until, batches: slices.length, certificatesExamined: examined, due, queued, skipped };
}

/** The notices of one certificate for the span (since, until]: the policy decides, nothing is restated. */
export function decide(certificate: CardCertificate, since: Date | null, until: Date): LifecycleNoticeRow[] {
  const inSpan = (dueAt: Date) => since === null || dueAt.getTime() > since.getTime();
  const rows: LifecycleNoticeRow[] = [];
  const base = { certificateId: certificate.certificateId, cardId: certificate.cardId, holderId: certificate.holderId };
  for (const notice of noticesDue(certificate.facts, until)) {
    if (!inSpan(notice.dueAt)) continue;
    for (const channel of DEFAULT_NOTICE_CHANNELS[notice.kind]) {
      rows.push({ ...base, kind: notice.kind, channel, dueAt: notice.dueAt, state: 'pending', lastError: null });
    }
  }
  if (since === null) return rows;
  // Catch-up: due in the span, stale by now, and it would have applied when due.
  for (const notice of noticeSchedule(certificate.facts.cardIssuedAt)) {
    if (!inSpan(notice.dueAt) || notice.staleAt.getTime() > until.getTime()) continue;
    if (!noticeApplies(notice.kind, certificate.facts, notice.dueAt)) continue;
    for (const channel of DEFAULT_NOTICE_CHANNELS[notice.kind]) {
      rows.push({
        ...base,
        kind: notice.kind,
        channel,
        dueAt: notice.dueAt,
        state: 'skipped',
        lastError: `stale: due ${notice.dueAt.toISOString()}, pointless from ${notice.staleAt.toISOString()}; no scan ran in between`,
      });
    }
  }
  return rows;
}
