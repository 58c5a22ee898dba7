import type { Task } from 'graphile-worker';
import { deliverNotice, type NoticeDeliveryDeps } from '../notifications/notice-delivery.service';

/**
 * Delivers one notice (tasks notice-email and notice-sms, one per channel so
 * that a worker without a channel's configuration leaves its jobs waiting).
 * The payload is `{ noticeId }` and nothing else. A transient failure throws,
 * and graphile-worker retries with exponential backoff; the last attempt or a
 * permanent refusal is recorded on the notice as failed.
 */
export function sendNoticeTask(deps: NoticeDeliveryDeps): Task {
  return async (payload, helpers) => {
    const noticeId = (payload as { noticeId?: unknown } | null)?.noticeId;
    if (typeof noticeId !== 'string' || !/^\d+$/.test(noticeId)) {
      throw new Error(`job ${helpers.job.id}: payload has no notice id`);
    }
    const outcome = await deliverNotice(deps, noticeId, {
      attempt: helpers.job.attempts,
      maxAttempts: helpers.job.max_attempts,
    });
    helpers.logger.info(`notice ${noticeId}: ${outcome}`);
  };
}
