import type { Task } from 'graphile-worker';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { Signer } from '@moica/pki';
import type { AppConfig, KeyOpener } from '@moica/platform';
import type { CaForCrl } from '../../../../db/crl-publication';
import { describeError, runPublication } from '../../../../db/crl-publisher';

/**
 * crl-publish (payload `{ publicationId }`): publishes one crl_publication
 * (docs/crl.md). A failure is logged as an alert (`alert: "crl-publication-failed"`,
 * counted in crl_publication.attempts and the `moica_crl_publication_failing`
 * metric) and rethrown so graphile-worker retries it with backoff; the
 * per-minute tick's watchdog starts a recovery well before nextUpdate.
 */
export function crlPublishTask(pool: Pool, config: AppConfig, openKey: KeyOpener, logger: Logger): Task & { close(): Promise<void> } {
  const signers = new Map<string, Promise<Signer>>();
  const signerFor = (ca: CaForCrl): Promise<Signer> => {
    let signer = signers.get(ca.keyLocation);
    if (!signer) {
      signer = openKey(ca.keyLocation, `issuing-ca:${ca.name}`);
      signers.set(ca.keyLocation, signer);
      signer.catch(() => signers.delete(ca.keyLocation)); // try again next time
    }
    return signer;
  };
  const task = async (payload: unknown, helpers: { job: { attempts: number; max_attempts: number } }) => {
    const publicationId = (payload as { publicationId?: unknown } | null)?.publicationId;
    if (typeof publicationId !== 'string') throw new Error('crl-publish needs { publicationId }');
    const started = process.hrtime.bigint();
    try {
      const outcome = await runPublication({ pool, signerFor, publicBaseUrl: config.PUBLIC_BASE_URL, now: () => config.clock.now() }, publicationId);
      logger.info(
        {
          publicationId,
          ca: outcome.caName,
          kind: outcome.kind,
          state: outcome.state,
          crls: outcome.crls.map((c) => ({ number: c.crlNumber.toString(), partition: c.scope.partition, entries: c.entryCount, bytes: c.byteSize })),
          skipped: outcome.skipped,
          ms: Number((process.hrtime.bigint() - started) / 1_000_000n),
        },
        'CRLs published',
      );
    } catch (error) {
      logger.error(
        { alert: 'crl-publication-failed', publicationId, attempt: helpers.job.attempts, maxAttempts: helpers.job.max_attempts, err: describeError(error) },
        'CRL publication failed; it will be retried',
      );
      throw error;
    }
  };
  return Object.assign(task as unknown as Task, {
    async close() {
      for (const signer of signers.values()) await (await signer.catch(() => undefined))?.close();
      signers.clear();
    },
  });
}
