import { DEFAULT_NOTICE_CHANNELS, DEFAULT_NOTICE_MAX_ATTEMPTS, type NoticeAddressee, type NoticeChannel, type TransactionalNoticeKind } from './notice-kinds';
import { queryRows, type Queryable } from './queryable';

/** A state change to tell the holder about (issue 8, transactional notices). */
export interface TransactionalNoticeRequest {
  readonly kind: TransactionalNoticeKind;
  readonly holderId: string;
  /** The certificate concerned (issued, suspended, resumed, revoked); null for contact changes. */
  readonly certificateId?: string | null;
  /**
   * What happened, unique per state change, e.g. `certificate-status-event:1234`
   * or `audit:5678`. The same key twice enqueues once: a retried request does
   * not notify twice.
   */
  readonly eventKey: string;
  /** When it happened (the transaction's `now` from the Clock). */
  readonly occurredAt: Date;
  /** Channels; DEFAULT_NOTICE_CHANNELS when absent. Not for contact-details-changed. */
  readonly channels?: readonly NoticeChannel[];
  /**
   * contact-details-changed only: the address(es) before the change. Each
   * given one also receives the notice, on its channel; the holder's new
   * address (read from `holder` at send time) receives it on the same channels.
   */
  readonly previousContact?: { readonly email?: string; readonly mobile?: string };
  /** Delivery attempts before the notice is recorded as failed. */
  readonly maxAttempts?: number;
}

export interface EnqueuedNotice {
  readonly noticeId: string;
  readonly channel: NoticeChannel;
  readonly addressee: NoticeAddressee;
  readonly jobId: string;
}

interface NoticeRow {
  kind: string;
  channel: NoticeChannel;
  addressee: NoticeAddressee;
  recipient: string | null;
}

/**
 * Records a transactional notice and queues its delivery, in the caller's
 * transaction: pass the client (pg PoolClient, TypeORM QueryRunner) on which
 * the state change itself is written, so that the notice exists if and only
 * if the change is committed. One `notice` row per channel and addressee, each
 * with a graphile-worker job (`graphile_worker.add_job`, job key
 * `notice:<id>`); the job payload holds only the notice id.
 *
 * Needs the graphile_worker schema (`prepareJobQueue`, run by the worker at
 * start). Returns the notices created: none when this eventKey was seen before.
 */
export async function enqueueNotice(db: Queryable, request: TransactionalNoticeRequest): Promise<EnqueuedNotice[]> {
  if (!request.eventKey) throw new Error('enqueueNotice: eventKey is required');
  if (Number.isNaN(request.occurredAt.getTime())) throw new RangeError('enqueueNotice: occurredAt is not a valid instant');
  const rows: NoticeRow[] = [];
  if (request.kind === 'contact-details-changed') {
    const previous = request.previousContact ?? {};
    if (request.channels) throw new Error('enqueueNotice: contact-details-changed takes its channels from previousContact');
    const changed: Array<[NoticeChannel, string | undefined]> = [
      ['email', previous.email],
      ['sms', previous.mobile],
    ];
    for (const [channel, address] of changed) {
      if (!address) continue;
      rows.push({ kind: request.kind, channel, addressee: 'holder', recipient: null });
      rows.push({ kind: request.kind, channel, addressee: 'previous-contact', recipient: address });
    }
    if (rows.length === 0) throw new Error('enqueueNotice: contact-details-changed needs previousContact.email or .mobile');
  } else {
    if (request.previousContact) throw new Error(`enqueueNotice: previousContact is only for contact-details-changed`);
    for (const channel of request.channels ?? DEFAULT_NOTICE_CHANNELS[request.kind]) {
      rows.push({ kind: request.kind, channel, addressee: 'holder', recipient: null });
    }
  }
  const created = await queryRows<{ id: string; channel: NoticeChannel; addressee: NoticeAddressee; job_id: string }>(
    db,
    `WITH input AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(kind text, channel text, addressee text, recipient text)
     ), ins AS (
       INSERT INTO notice (certificate_id, card_id, holder_id, kind, channel, due_at, event_key, addressee, recipient)
       SELECT $2::uuid, (SELECT card_id FROM certificate WHERE id = $2::uuid), $3::uuid,
              kind, channel, $4::timestamptz, $5::text, addressee, recipient
         FROM input ORDER BY kind, channel, addressee
       ON CONFLICT (event_key, kind, channel, addressee) WHERE event_key IS NOT NULL DO NOTHING
       RETURNING id, channel, addressee
     )
     SELECT ins.id::text AS id, ins.channel, ins.addressee, ${ADD_NOTICE_JOB('ins', '$6')} AS job_id FROM ins ORDER BY ins.id`,
    [
      JSON.stringify(rows),
      request.certificateId ?? null,
      request.holderId,
      request.occurredAt.toISOString(),
      request.eventKey,
      request.maxAttempts ?? DEFAULT_NOTICE_MAX_ATTEMPTS,
    ],
  );
  return created.map((row) => ({ noticeId: row.id, channel: row.channel, addressee: row.addressee, jobId: row.job_id }));
}

/**
 * SQL: queue the delivery job of the notice row `alias` (columns id, channel):
 * task notice-<channel>, payload { noticeId } only, job key notice:<id>.
 */
export function ADD_NOTICE_JOB(alias: string, maxAttemptsParam: string): string {
  return `(graphile_worker.add_job('notice-' || ${alias}.channel, json_build_object('noticeId', ${alias}.id::text),
             max_attempts := ${maxAttemptsParam}::int, job_key := 'notice:' || ${alias}.id)).id::text`;
}
