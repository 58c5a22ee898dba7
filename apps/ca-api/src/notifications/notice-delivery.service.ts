import type { Pool } from 'pg';
import { noticesDue } from '@moica/policy';
import type { Clock } from '@moica/platform';
import { DeliveryError, type NotificationChannels } from './notification-channels';
import { isLifecycleNoticeKind } from './notice-kinds';
import { renderNotice } from './notice-templates';
import {
  claimNotice,
  currentCertificateOfCard,
  deliveryContext,
  markSent,
  noticeState,
  releaseNotice,
  type ClaimedNotice,
} from './notice.repository';

export interface NoticeDeliveryDeps {
  readonly pool: Pool;
  readonly channels: NotificationChannels;
  readonly clock: Clock;
  /** How long a claim protects a notice being sent (database time); longer than any SMTP/HTTP timeout. */
  readonly leaseSeconds?: number;
}

export type DeliveryOutcome = 'sent' | 'skipped' | 'failed' | 'already-done';

/** The job's attempt number and limit (graphile-worker's helpers.job). */
export interface Attempt {
  readonly attempt: number;
  readonly maxAttempts: number;
}

/** Thrown to have the job retried later (graphile-worker backoff). Carries no personal data. */
export class RetryLater extends Error {
  override name = 'RetryLater';
}

/**
 * Delivers one notice, at most once:
 * 1. claim it (pending -> sending, atomically; a notice already sent, failed
 *    or skipped is left alone, so a repeated job sends nothing);
 * 2. a lifecycle notice is checked again against the policy at `now`
 *    (`noticesDue`): if it went stale or stopped applying while it waited
 *    (a channel not configured, a long outage) it is skipped, never sent late;
 * 3. render and send, with the notice id as the message's idempotency key;
 * 4. record: sent (the address is replaced by its hash), failed (permanent
 *    refusal, or the last attempt), or back to pending and RetryLater.
 *
 * The only window for a duplicate is a crash between the server's acceptance
 * and step 4: the claim's lease then expires and the retry sends again with
 * the same Message-ID / gateway clientid (the SMS gateway drops it).
 */
export async function deliverNotice(deps: NoticeDeliveryDeps, noticeId: string, attempt: Attempt): Promise<DeliveryOutcome> {
  const now = deps.clock.now();
  const notice = await claimNotice(deps.pool, noticeId, now, deps.leaseSeconds ?? 600);
  if (!notice) {
    const state = await noticeState(deps.pool, noticeId);
    if (state === 'sending') throw new RetryLater(`notice ${noticeId} is being delivered by another attempt`);
    return 'already-done';
  }
  try {
    if (isLifecycleNoticeKind(notice.kind)) {
      const stillDue = await lifecycleNoticeStillDue(deps, notice, now);
      if (!stillDue.due) {
        await releaseNotice(deps.pool, notice.id, 'skipped', stillDue.reason);
        return 'skipped';
      }
    }
    const context = await deliveryContext(deps.pool, notice);
    const rendered = renderNotice({
      kind: notice.kind,
      addressee: notice.addressee,
      holderName: context.holderName,
      cardIssuedAt: context.cardIssuedAt,
      dueAt: notice.dueAt,
      serialHex: context.serialHex,
      channel: notice.channel,
    });
    const idempotencyKey = `notice-${notice.id}`;
    let address: string;
    let providerMessageId: string | null;
    if (notice.channel === 'email') {
      address = notice.recipient ?? context.email;
      ({ providerMessageId } = await deps.channels.sendEmail({ to: address, subject: rendered.subject, text: rendered.text, idempotencyKey }));
    } else {
      address = notice.recipient ?? context.mobile;
      ({ providerMessageId } = await deps.channels.sendSms({ to: address, text: rendered.sms, idempotencyKey }));
    }
    await markSent(deps.pool, notice.id, deps.clock.now(), address, providerMessageId);
    return 'sent';
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof DeliveryError && error.permanent) {
      await releaseNotice(deps.pool, notice.id, 'failed', `permanent: ${message}`);
      return 'failed';
    }
    if (attempt.attempt >= attempt.maxAttempts) {
      await releaseNotice(deps.pool, notice.id, 'failed', `gave up after ${attempt.attempt} attempts: ${message}`);
      return 'failed';
    }
    await releaseNotice(deps.pool, notice.id, 'pending', message);
    throw new RetryLater(`notice ${notice.id} (${notice.channel}) attempt ${attempt.attempt}/${attempt.maxAttempts}: ${message}`);
  }
}

async function lifecycleNoticeStillDue(
  deps: NoticeDeliveryDeps,
  notice: ClaimedNotice,
  now: Date,
): Promise<{ due: true } | { due: false; reason: string }> {
  const current = notice.cardId ? await currentCertificateOfCard(deps.pool, notice.cardId) : null;
  if (!current) return { due: false, reason: 'no current certificate for the card' };
  const due = noticesDue(current.facts, now).some(
    (candidate) => candidate.kind === notice.kind && candidate.dueAt.getTime() === notice.dueAt.getTime(),
  );
  return due ? { due: true } : { due: false, reason: `no longer due at ${now.toISOString()} (stale or no longer applicable)` };
}
