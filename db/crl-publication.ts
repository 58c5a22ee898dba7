/**
 * Publishing CRLs (RFC 5280 §5; docs/crl.md): complete, partition and delta
 * CRLs of one issuing CA, streamed from PostgreSQL into the DER encoder and
 * the signature, and stored in published_crl.
 *
 * Per CRL ("scope": the complete CRL, partition p, or the delta of either):
 * 1. a session advisory lock per CA serialises publishers of that CA (any
 *    number of workers, the CLI), so each takes its number *and* its
 *    snapshot after the previous one committed: a higher CRL number never
 *    lists less than a lower one;
 * 2. `BEGIN ISOLATION LEVEL REPEATABLE READ`; the first statement takes the
 *    next number (`UPDATE certificate_authority SET last_crl_number =
 *    last_crl_number + 1 ... RETURNING`, one sequence for every kind, RFC 5280
 *    §5.2.3) and the snapshot (`pg_current_snapshot()`), recorded with the CRL;
 * 3. the entries' total size (`sum(octet_length(crl_entry_der))`, on a second
 *    connection importing the snapshot) and the entries themselves
 *    (`COPY (SELECT string_agg(crl_entry_der, '') ... GROUP BY crl_partition)
 *    TO STDOUT (FORMAT binary)`: one row of concatenated entry DERs per
 *    partition) come from that one snapshot; buildCrl writes them straight
 *    into the TBSCertList;
 * 4. the signed DER goes into published_crl by `COPY ... FROM STDIN (FORMAT
 *    binary)`, streamed from the builder's chunks, never as one giant bind
 *    parameter (published_crl.der is stored out of line, uncompressed); COMMIT.
 * Memory is one TBSCertList (about 48 MB for a million entries) whatever the
 * number of rows.
 *
 * Deltas list the certificates whose certificate_status_event rows are not
 * visible in the base CRL's snapshot (see db/crl-changes.ts).
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Pool, PoolClient } from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import {
  buildCrl,
  CrlEntrySource,
  CrlScope,
  revocationIssuerFromCertificate,
  SignedCrl,
  Signer,
} from '@moica/pki';
import { CRL_LISTED_STATUSES, deltaChangesSql } from './crl-changes';
import { binaryCopyValues, COPY_BINARY_HEADER, COPY_BINARY_TRAILER } from './crl-copy';
import { crlUrls } from './crl-partition';
import { inTransaction } from './transaction';

export type CrlKind = 'complete' | 'partition' | 'delta';

/** One CRL of a CA: the complete CRL, partition p, or the delta of either (partition null: the complete CRL's delta). */
export interface CrlScopeRef {
  kind: CrlKind;
  partition: number | null;
}

/** What publishing needs about a CA. */
export interface CaForCrl {
  id: string;
  name: string;
  certificateDer: Buffer;
  keyLocation: string;
  crlPartitions: number;
  expiredCertsOnCrl: boolean;
}

/** A CRL that was published (or found already published for this publication). */
export interface PublishedCrlSummary {
  scope: CrlScopeRef;
  crlNumber: bigint;
  baseCrlNumber: bigint | null;
  thisUpdate: Date;
  nextUpdate: Date;
  entryCount: number;
  byteSize: number;
  sha256: string;
  /** True when this publication had already stored this scope (a retried job). */
  alreadyPublished: boolean;
}

export interface PublishContext {
  pool: Pool;
  ca: CaForCrl;
  signer: Signer;
  /** PUBLIC_BASE_URL: the CRL URLs written into IDP and freshestCRL. */
  publicBaseUrl: string;
  /** thisUpdate; truncated to whole seconds (X.509 times have no fractions). */
  now: Date;
  /** nextUpdate - thisUpdate, in seconds. */
  validitySeconds: number;
  /** The crl_publication row these CRLs belong to (exactly once per slot and scope). */
  publicationId: string;
  /** Called at the end of each step (for timing logs and the benchmark). */
  onStep?: (step: string) => void;
  /**
   * How the TBS is sized: 'snapshot-sum' (default) counts `sum(octet_length)`
   * on a second connection in the same snapshot while the entries stream, and
   * writes them straight into one TBS; 'stream' counts nothing and sizes the
   * TBS at the end (one scan, a second copy of the entries in memory).
   */
  entriesLength?: 'snapshot-sum' | 'stream';
  /** With 'snapshot-sum': entries held while counting before the COPY is made to wait (default 16 MiB). */
  maxBufferedBytes?: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LISTED_SQL = CRL_LISTED_STATUSES.map((s) => `'${s}'`).join(', ');
/** Slices of the DER written to COPY FROM STDIN. */
const COPY_WRITE_SLICE = 1 << 20;
/** Entries held in memory while the snapshot's total is being counted, at most (then the COPY waits). */
const BUFFER_WHILE_COUNTING = 16 << 20;

/** Reads a CA's CRL settings. Throws if the CA does not exist or is not an issuing CA. */
export async function loadCaForCrl(db: Pool | PoolClient, caId: string): Promise<CaForCrl> {
  const { rows } = await db.query<{
    id: string;
    name: string;
    certificate_der: Buffer;
    key_location: string;
    crl_partitions: number;
    expired_certs_on_crl: boolean;
    role: string;
  }>(
    `SELECT id, name, certificate_der, key_location, crl_partitions, expired_certs_on_crl, role
       FROM certificate_authority WHERE id = $1`,
    [caId],
  );
  const row = rows[0];
  if (!row) throw new Error(`certificate authority ${caId} does not exist`);
  if (row.role !== 'issuing') throw new Error(`certificate authority ${row.name} is not an issuing CA`);
  return {
    id: row.id,
    name: row.name,
    certificateDer: row.certificate_der,
    keyLocation: row.key_location,
    crlPartitions: row.crl_partitions,
    expiredCertsOnCrl: row.expired_certs_on_crl,
  };
}

/** The scopes a publication of `kind` produces: one complete CRL, every partition, or the delta of each. */
export function scopesOf(kind: CrlKind, crlPartitions: number): CrlScopeRef[] {
  const partitions = Array.from({ length: crlPartitions }, (_, p) => p);
  switch (kind) {
    case 'complete':
      return [{ kind, partition: null }];
    case 'partition':
      return partitions.map((p) => ({ kind, partition: p }));
    case 'delta':
      return [{ kind, partition: null }, ...partitions.map((p) => ({ kind, partition: p }))];
  }
}

/** Human-readable scope for logs and errors. */
export function describeScope(scope: CrlScopeRef): string {
  const target = scope.partition === null ? 'complete' : `partition ${scope.partition}`;
  return scope.kind === 'delta' ? `delta of ${target}` : target;
}

/**
 * Publishes one CRL (see the file comment for the steps). Returns undefined
 * for a delta whose base (complete or partition CRL) was never published.
 */
export async function publishCrlScope(context: PublishContext, scope: CrlScopeRef): Promise<PublishedCrlSummary | undefined> {
  const { pool, ca } = context;
  if (!UUID.test(ca.id)) throw new Error(`invalid CA id ${ca.id}`);
  const client = await pool.connect();
  let locked = false;
  let broken = false;
  try {
    await client.query(`SELECT pg_advisory_lock(hashtextextended('moica-crl:' || $1, 0))`, [ca.id]);
    locked = true;
    const done = await client.query(
      `SELECT crl_number, base_crl_number, this_update, next_update, entry_count, byte_size, sha256
         FROM published_crl WHERE publication_id = $1 AND kind = $2 AND coalesce(partition, -1) = $3`,
      [context.publicationId, scope.kind, scope.partition ?? -1],
    );
    if (done.rows[0]) {
      const row = done.rows[0];
      return {
        scope,
        crlNumber: BigInt(row.crl_number),
        baseCrlNumber: row.base_crl_number === null ? null : BigInt(row.base_crl_number),
        thisUpdate: row.this_update,
        nextUpdate: row.next_update,
        entryCount: row.entry_count,
        byteSize: row.byte_size,
        sha256: row.sha256.toString('hex'),
        alreadyPublished: true,
      };
    }
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    try {
      const summary = await publishInTransaction(client, context, scope);
      if (summary) await client.query('COMMIT');
      else await client.query('ROLLBACK');
      return summary;
    } catch (error) {
      // The connection may be in the middle of a COPY: close it rather than queue a ROLLBACK
      // behind it. PostgreSQL then aborts the transaction and releases the advisory lock.
      broken = true;
      throw error;
    }
  } catch (cause) {
    throw new Error(`publishing the ${describeScope(scope)} CRL of CA ${ca.name}`, { cause });
  } finally {
    if (broken) client.release(true);
    else {
      if (locked) await client.query(`SELECT pg_advisory_unlock(hashtextextended('moica-crl:' || $1, 0))`, [ca.id]).catch(() => undefined);
      client.release();
    }
  }
}

async function publishInTransaction(client: PoolClient, context: PublishContext, scope: CrlScopeRef): Promise<PublishedCrlSummary | undefined> {
  const { ca, signer, now, validitySeconds } = context;
  // First statement: the snapshot of this transaction, and the CRL number (row-locked until COMMIT).
  const numbered = await client.query<{ last_crl_number: string; snapshot: string }>(
    `UPDATE certificate_authority SET last_crl_number = last_crl_number + 1 WHERE id = $1
     RETURNING last_crl_number, pg_current_snapshot()::text AS snapshot`,
    [ca.id],
  );
  const step = context.onStep ?? (() => undefined);
  step('numbered');
  const crlNumber = BigInt(numbered.rows[0].last_crl_number);
  const snapshot = numbered.rows[0].snapshot;
  const thisUpdate = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const nextUpdate = new Date(thisUpdate.getTime() + validitySeconds * 1000);
  const urls = crlUrls(ca.name, context.publicBaseUrl, ca.crlPartitions);
  const parameters = {
    issuer: revocationIssuerFromCertificate(ca.certificateDer),
    signer,
    crlNumber,
    thisUpdate,
    nextUpdate,
  };

  let crl: SignedCrl;
  let baseCrlNumber: bigint | null = null;
  if (scope.kind === 'delta') {
    const base = await client.query<{ crl_number: string; source_snapshot: string | null }>(
      `SELECT crl_number, source_snapshot::text AS source_snapshot FROM published_crl
        WHERE ca_id = $1 AND kind = $2 AND partition IS NOT DISTINCT FROM $3
        ORDER BY crl_number DESC LIMIT 1`,
      [ca.id, scope.partition === null ? 'complete' : 'partition', scope.partition],
    );
    if (!base.rows[0]?.source_snapshot) return undefined;
    baseCrlNumber = BigInt(base.rows[0].crl_number);
    const changes = await client.query<{
      serial: Buffer;
      status: string;
      crl_entry_der: Buffer | null;
      not_after: Date;
      status_changed_at: Date;
      from_status: string | null;
    }>(deltaChangesSql(scope.partition !== null), [ca.id, base.rows[0].source_snapshot, ...(scope.partition !== null ? [scope.partition] : [])]);
    const entries: CrlEntrySource[] = [];
    for (const row of changes.rows) {
      const listed = (CRL_LISTED_STATUSES as readonly string[]).includes(row.status);
      const unexpired = ca.expiredCertsOnCrl || row.not_after.getTime() > thisUpdate.getTime();
      if (listed && unexpired) {
        if (!row.crl_entry_der) throw new Error(`certificate ${row.serial.toString('hex')} is ${row.status} but has no crl_entry_der`);
        entries.push(new Uint8Array(row.crl_entry_der));
      } else if (!listed && row.from_status !== null && (CRL_LISTED_STATUSES as readonly string[]).includes(row.from_status)) {
        // RFC 5280 §5.3.1: removeFromCRL in a delta CRL: released from hold since the base.
        entries.push({ serial: new Uint8Array(row.serial), revokedAt: row.status_changed_at, reason: 'removeFromCRL' });
      }
    }
    const partitionScope =
      scope.partition === null ? undefined : { distributionPointUri: urls.partition(scope.partition), onlyContainsUserCerts: true };
    crl = await buildCrl({ ...parameters, scope: { kind: 'delta', baseCrlNumber, partition: partitionScope } }, entries);
  } else {
    const where = listedWhere(ca, scope.partition, thisUpdate);
    const crlScope: CrlScope =
      scope.partition === null
        ? { kind: 'complete', freshestCrlUris: [urls.completeDelta] }
        : {
            kind: 'partition',
            distributionPointUri: urls.partition(scope.partition),
            onlyContainsUserCerts: true,
            freshestCrlUris: [urls.partitionDelta(scope.partition)],
          };
    // One row per partition: the entries concatenated by the server (string_agg over the index-only
    // scan, in index order, so a streaming GroupAggregate) - a few rows of megabytes instead of a
    // million tiny ones, which would cost more in the client than in PostgreSQL. A listed row
    // without its entry DER becomes an octet 00 that the builder refuses (never silently omitted).
    const copy =
      `COPY (SELECT string_agg(coalesce(crl_entry_der, '\\x00'::bytea), ''::bytea) FROM certificate WHERE ${where} ` +
      `GROUP BY crl_partition) TO STDOUT (FORMAT binary)`;
    if (context.entriesLength === 'stream') {
      crl = await buildCrl({ ...parameters, scope: crlScope }, flattened(binaryCopyValues(client.query(copyTo(copy)), { nulls: 'refuse', compact: true })));
      step('streamed and signed');
    } else {
      // The totals come from a second connection on the same snapshot, while the entries already stream.
      const exported = await client.query<{ id: string }>(`SELECT pg_export_snapshot() AS id`);
      const totalsPromise = snapshotTotals(context.pool, exported.rows[0].id, where);
      totalsPromise.catch(() => undefined);
      const stream = client.query(copyTo(copy));
      const { value: totals, rest } = await bufferUntil(
        flattened(binaryCopyValues(stream, { compact: true })),
        totalsPromise,
        context.maxBufferedBytes ?? BUFFER_WHILE_COUNTING,
      );
      step('counted');
      if (totals.missing > 0) {
        for await (const item of rest) void item; // let the COPY finish so the connection can roll back
        throw new Error(`${totals.missing} listed certificate(s) have no crl_entry_der (run backfillCrlEntries)`);
      }
      crl = await buildCrl({ ...parameters, scope: crlScope, entriesByteLength: totals.bytes }, rest);
      step('streamed and signed');
      if (crl.entryCount !== totals.n) {
        throw new Error(`streamed ${crl.entryCount} entries but the snapshot counts ${totals.n}`);
      }
    }
  }

  await storeCrl(client, context, scope, crl, baseCrlNumber, snapshot);
  step('stored');
  return {
    scope,
    crlNumber,
    baseCrlNumber,
    thisUpdate,
    nextUpdate,
    entryCount: crl.entryCount,
    byteSize: crl.byteLength,
    sha256: crl.sha256,
    alreadyPublished: false,
  };
}

/** The certificates a complete or partition CRL lists (literals only: COPY takes no parameters). */
function listedWhere(ca: CaForCrl, partition: number | null, thisUpdate: Date): string {
  const parts = [`ca_id = '${ca.id}'`, `status IN (${LISTED_SQL})`];
  if (partition !== null) {
    if (!Number.isInteger(partition) || partition < 0) throw new RangeError(`invalid partition ${partition}`);
    parts.push(`crl_partition = ${partition}`);
  }
  // ExpiredCertsOnCRL is a per-CA setting; by default an expired certificate leaves the CRL (RFC 5280 §3.3).
  if (!ca.expiredCertsOnCrl) parts.push(`not_after > '${thisUpdate.toISOString()}'::timestamptz`);
  return parts.join(' AND ');
}

/** Count, total entry length and rows lacking an entry DER, in the exported snapshot `snapshotId`. */
async function snapshotTotals(pool: Pool, snapshotId: string, where: string): Promise<{ n: number; bytes: number; missing: number }> {
  if (!/^[0-9A-F-]+$/i.test(snapshotId)) throw new Error(`unexpected snapshot id ${snapshotId}`);
  // The counter reads the publishing transaction's snapshot; SET TRANSACTION SNAPSHOT needs REPEATABLE READ.
  return inTransaction(pool, async (counter) => {
    await counter.query(`SET TRANSACTION SNAPSHOT '${snapshotId}'`);
    const { rows } = await counter.query<{ n: number; bytes: string; missing: number }>(
      `SELECT count(*)::int AS n, coalesce(sum(octet_length(crl_entry_der)), 0)::bigint AS bytes,
              count(*) FILTER (WHERE crl_entry_der IS NULL)::int AS missing
         FROM certificate WHERE ${where}`,
    );
    return { n: rows[0].n, bytes: Number(rows[0].bytes), missing: rows[0].missing };
  }, { isolation: 'REPEATABLE READ', readOnly: true });
}

/**
 * Keeps pulling `items` into memory until `promise` settles (or `maxBytes`
 * are held: then it waits, and the COPY waits behind TCP backpressure), then
 * returns its value and an iterable of the buffered items followed by the
 * rest: the entries that arrive while the totals are being counted wait in
 * memory, the others go straight into the TBS.
 */
async function bufferUntil<T extends Uint8Array, V>(
  items: AsyncIterable<T>,
  promise: Promise<V>,
  maxBytes: number,
): Promise<{ value: V; rest: AsyncIterable<T> }> {
  const iterator = items[Symbol.asyncIterator]();
  const buffered: T[] = [];
  let bufferedBytes = 0;
  let ended = false;
  let pending: Promise<IteratorResult<T>> | undefined = iterator.next();
  const settled = promise.then(
    () => 'settled' as const,
    () => 'settled' as const,
  );
  for (;;) {
    const next: IteratorResult<T> | 'settled' = await Promise.race([pending as Promise<IteratorResult<T>>, settled]);
    if (next === 'settled') break;
    if (next.done) {
      ended = true;
      pending = undefined;
      break;
    }
    buffered.push(next.value);
    bufferedBytes += next.value.length;
    pending = iterator.next();
    if (bufferedBytes >= maxBytes) break;
  }
  let value: V;
  try {
    value = await promise;
  } catch (error) {
    if (pending) await pending.catch(() => undefined);
    if (!ended) for (let n = await iterator.next(); !n.done; n = await iterator.next()); // drain the COPY
    throw error;
  }
  async function* rest(): AsyncGenerator<T> {
    while (buffered.length > 0) yield buffered.shift() as T;
    if (!pending) return;
    const first = await pending;
    if (first.done) return;
    yield first.value;
    for (let n = await iterator.next(); !n.done; n = await iterator.next()) yield n.value;
  }
  return { value, rest: rest() };
}

/**
 * The items of compacted COPY batches (each several entry DERs back to back,
 * see binaryCopyValues): one or two per network chunk, about a thousand for a
 * million entries, not a million.
 */
async function* flattened(batches: AsyncIterable<Uint8Array[]>): AsyncGenerator<Uint8Array> {
  for await (const batch of batches) yield* batch;
}

/**
 * Stores the CRL by one binary COPY into published_crl (the DER streamed
 * from the builder's chunks, never one giant bind parameter), then records
 * the snapshot (an UPDATE that leaves the out-of-line DER where it is).
 */
async function storeCrl(
  client: PoolClient,
  context: PublishContext,
  scope: CrlScopeRef,
  crl: SignedCrl,
  baseCrlNumber: bigint | null,
  snapshot: string,
): Promise<void> {
  const id = randomUUID();
  const fields: Array<Uint8Array | null> = [
    uuidField(id),
    uuidField(context.ca.id),
    int8Field(crl.crlNumber),
    Buffer.from(scope.kind, 'utf8'),
    scope.partition === null ? null : int4Field(scope.partition),
    baseCrlNumber === null ? null : int8Field(baseCrlNumber),
    timestamptzField(crl.thisUpdate),
    timestamptzField(crl.nextUpdate),
    int4Field(crl.entryCount),
    int4Field(crl.byteLength),
    Buffer.from(crl.sha256, 'hex'),
  ];
  function* pieces(): Generator<Uint8Array> {
    const head: Buffer[] = [COPY_BINARY_HEADER, int2Field(fields.length + 2)];
    for (const field of fields) head.push(fieldLength(field === null ? -1 : field.length), ...(field ? [Buffer.from(field)] : []));
    head.push(fieldLength(crl.byteLength));
    yield Buffer.concat(head);
    for (const chunk of crl.chunks) {
      for (let offset = 0; offset < chunk.length; offset += COPY_WRITE_SLICE) {
        yield chunk.subarray(offset, Math.min(chunk.length, offset + COPY_WRITE_SLICE));
      }
    }
    const publication = uuidField(context.publicationId);
    yield Buffer.concat([fieldLength(publication.length), publication, COPY_BINARY_TRAILER]);
  }
  await pipeline(
    Readable.from(pieces(), { objectMode: false }),
    client.query(
      copyFrom(
        `COPY published_crl (id, ca_id, crl_number, kind, partition, base_crl_number, this_update, next_update,
                             entry_count, byte_size, sha256, der, publication_id) FROM STDIN (FORMAT binary)`,
      ),
    ),
  );
  context.onStep?.('uploaded');
  await client.query(`UPDATE published_crl SET source_snapshot = $2::pg_snapshot WHERE id = $1`, [id, snapshot]);
}

// PostgreSQL binary send formats (COPY BINARY fields).
const POSTGRES_EPOCH_MS = Date.UTC(2000, 0, 1);

function uuidField(uuid: string): Buffer {
  if (!UUID.test(uuid)) throw new RangeError(`not a UUID: ${uuid}`);
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

function int2Field(value: number): Buffer {
  const out = Buffer.alloc(2);
  out.writeInt16BE(value);
  return out;
}

function int4Field(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeInt32BE(value);
  return out;
}

function int8Field(value: bigint): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigInt64BE(value);
  return out;
}

/** timestamptz: microseconds since 2000-01-01T00:00:00Z, int8. */
function timestamptzField(date: Date): Buffer {
  return int8Field(BigInt(date.getTime() - POSTGRES_EPOCH_MS) * 1000n);
}

function fieldLength(length: number): Buffer {
  return int4Field(length);
}
