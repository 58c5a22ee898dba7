import type { Task } from 'graphile-worker';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { AppConfig, KeyOpener } from '@moica/platform';
import { presignCertificates, refreshOcspResponses } from '../../../ocsp-responder/src/ocsp/ocsp-presigner';
import { loadOcspSigningIdentities, type OcspSigningIdentity } from '../../../ocsp-responder/src/ocsp/ocsp-signing-identity';

/** Certificates re-signed per cron run at most; the next run (5 minutes later) continues. */
const MAX_PER_RUN = 200_000;

/**
 * ocsp-refresh (docs/ocsp.md):
 * - payload `{ certificateIds: [...] }`: enqueued by announceStatusChange
 *   (db/certificate-status-change.ts, job key `ocsp-sign:<id>`) in ca-api's
 *   status-change transaction: pre-signs the new answer and stores it;
 * - no payload (cron, every 5 minutes): re-signs stored responses before
 *   half their validity (OCSP_RESPONSE_VALIDITY_HOURS), signs missing ones,
 *   and drops those of expired certificates.
 * The delegated responder keys are opened like the responder opens them
 * (key location + keyOpenerFor: software or PKCS#11), once per worker, and
 * re-read after a failure (a rotated signer).
 */
export function ocspRefreshTask(pool: Pool, config: AppConfig, openKey: KeyOpener, logger: Logger): Task & { close(): Promise<void> } {
  let identities: Promise<OcspSigningIdentity[]> | undefined;
  const load = () => {
    if (!identities) {
      identities = loadOcspSigningIdentities(pool, openKey);
      identities.catch(() => (identities = undefined));
    }
    return identities;
  };
  const options = () => ({ now: config.clock.now(), validityHours: config.OCSP_RESPONSE_VALIDITY_HOURS });
  const task = async (payload: unknown) => {
    const loaded = await load();
    const ids = (payload as { certificateIds?: unknown } | null)?.certificateIds;
    try {
      if (Array.isArray(ids)) {
        const certificateIds = ids.filter((id): id is string => typeof id === 'string');
        const signed = await presignCertificates(pool, loaded, certificateIds, options());
        logger.info({ certificates: certificateIds.length, signed }, 'ocsp-refresh: status change pre-signed');
        return;
      }
      const started = performance.now();
      const result = await refreshOcspResponses(pool, loaded, { ...options(), maxCertificates: MAX_PER_RUN });
      logger.info({ ...result, ms: Math.round(performance.now() - started) }, 'ocsp-refresh: sweep done');
    } catch (error) {
      // A rotated or broken signer: open the keys again on the next attempt.
      const stale = identities;
      identities = undefined;
      void stale?.then((list) => Promise.all(list.map((identity) => identity.signer.close()))).catch(() => undefined);
      throw error;
    }
  };
  return Object.assign(task, {
    async close() {
      const list = await identities?.catch(() => []);
      await Promise.all((list ?? []).map((identity) => identity.signer.close()));
    },
  });
}
