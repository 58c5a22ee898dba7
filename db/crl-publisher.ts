/**
 * Runs one crl_publication (a slot, a "publish now", a recovery): every
 * scope of its kind, then marks it published. Called by the worker's
 * crl-publish task; safe to run again after a crash or a failure (scopes
 * already stored for this publication are skipped, a published one is a no-op).
 */
import type { Pool } from 'pg';
import type { Signer } from '@moica/pki';
import { backfillCrlEntries } from './crl-changes';
import {
  CaForCrl,
  CrlKind,
  describeScope,
  loadCaForCrl,
  publishCrlScope,
  PublishedCrlSummary,
  scopesOf,
} from './crl-publication';
import { DEFAULT_SCHEDULES } from './crl-schedule';

export interface PublicationRunnerDeps {
  pool: Pool;
  /** The signer of a CA (opened from its key location; the caller may cache it). */
  signerFor(ca: CaForCrl): Promise<Signer>;
  publicBaseUrl: string;
  now(): Date;
}

export interface PublicationOutcome {
  publicationId: string;
  caName: string;
  kind: CrlKind;
  state: 'published' | 'already-published';
  crls: PublishedCrlSummary[];
  /** Delta scopes skipped because their base was never published. */
  skipped: string[];
}

/** Runs publication `publicationId`. On failure records the attempt (state 'failing', last_error) and rethrows. */
export async function runPublication(deps: PublicationRunnerDeps, publicationId: string): Promise<PublicationOutcome> {
  const { pool } = deps;
  const { rows } = await pool.query<{ ca_id: string; kind: CrlKind; state: string }>(
    `SELECT ca_id, kind, state FROM crl_publication WHERE id = $1`,
    [publicationId],
  );
  const publication = rows[0];
  if (!publication) throw new Error(`CRL publication ${publicationId} does not exist`);
  const ca = await loadCaForCrl(pool, publication.ca_id);
  if (publication.state === 'published') {
    return { publicationId, caName: ca.name, kind: publication.kind, state: 'already-published', crls: [], skipped: [] };
  }
  try {
    const schedule = await pool.query<{ next_update_seconds: number }>(
      `SELECT next_update_seconds FROM crl_schedule WHERE ca_id = $1 AND kind = $2`,
      [ca.id, publication.kind],
    );
    const validitySeconds = schedule.rows[0]?.next_update_seconds ?? DEFAULT_SCHEDULES[publication.kind].nextUpdateSeconds;
    await backfillCrlEntries(pool, ca.id);
    const signer = await deps.signerFor(ca);
    const crls: PublishedCrlSummary[] = [];
    const skipped: string[] = [];
    for (const scope of scopesOf(publication.kind, ca.crlPartitions)) {
      const summary = await publishCrlScope(
        { pool, ca, signer, publicBaseUrl: deps.publicBaseUrl, now: deps.now(), validitySeconds, publicationId },
        scope,
      );
      if (summary) crls.push(summary);
      else skipped.push(describeScope(scope));
    }
    await pool.query(
      `UPDATE crl_publication SET state = 'published', published_at = $2, attempts = attempts + 1, last_error = NULL WHERE id = $1`,
      [publicationId, deps.now()],
    );
    return { publicationId, caName: ca.name, kind: publication.kind, state: 'published', crls, skipped };
  } catch (error) {
    await pool
      .query(`UPDATE crl_publication SET state = 'failing', attempts = attempts + 1, last_error = $2 WHERE id = $1 AND state <> 'published'`, [
        publicationId,
        describeError(error).slice(0, 2000),
      ])
      .catch(() => undefined);
    throw error;
  }
}

/** An error and its causes on one line. */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    parts.push(current instanceof Error ? current.message : String(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(': ');
}
