import './module-aliases';
/**
 * CRL operations from the command line (docs/crl.md). Same rules as the
 * operator API: schedules are validated, every change is audited, and
 * publication is done by the worker (exactly once per request).
 *
 *   npm run crl -- schedule --ca dev-issuing --kind delta --interval 3600 --next-update 7200
 *   npm run crl -- schedule --ca dev-issuing --kind complete --cron "0 0 * * *" --tz Asia/Taipei --next-update 129600
 *   npm run crl -- schedule --ca dev-issuing --kind partition --disable
 *   npm run crl -- schedules --ca dev-issuing
 *   npm run crl -- publish-now --ca dev-issuing [--kinds complete,partition,delta] [--wait]
 *   npm run crl -- list --ca dev-issuing [--kind complete] [--limit 20] [--publications]
 *   npm run crl -- backfill --ca dev-issuing      # entry DERs of listed rows that lack one (synthetic data)
 *
 * Needs DATABASE_URL (and PUBLIC_BASE_URL for the URLs it prints).
 */
import { userInfo } from 'node:os';
import { Pool } from 'pg';
import { appendAudit, type AuditRecord } from '../db/audit-chain';
import { backfillCrlEntries } from '../db/crl-changes';
import { crlUrls } from '../db/crl-partition';
import type { CrlKind } from '../db/crl-publication';
import { inTransaction } from '../db/transaction';
import { CRL_KINDS, DEFAULT_SCHEDULES, requestPublications, scheduleProblems } from '../db/crl-schedule';

const USAGE = `usage: npm run crl -- <command> [options]
  schedule     --ca <name|id> --kind complete|partition|delta
               (--interval <seconds> | --cron "<m h dom mon dow>" [--tz <zone>]) --next-update <seconds>
               | --disable | --enable
  schedules    --ca <name|id>
  publish-now  --ca <name|id> [--kinds complete,partition,delta] [--wait]
  list         --ca <name|id> [--kind complete|partition|delta] [--partition <n>] [--limit <n>] [--publications]
  backfill     --ca <name|id>`;

function option(args: string[], name: string): string | undefined {
  const index = args.indexOf(name);
  if (index < 0) return undefined;
  const value = args[index + 1];
  if (value === undefined || value.startsWith('--')) throw new UsageError(`${name} needs a value`);
  return value;
}

class UsageError extends Error {}

async function findCa(pool: Pool, ref: string | undefined): Promise<{ id: string; name: string; crl_partitions: number }> {
  if (!ref) throw new UsageError('--ca is required');
  const { rows } = await pool.query(
    `SELECT id, name, crl_partitions FROM certificate_authority
      WHERE role = 'issuing' AND (name = $1 OR id::text = $1)`,
    [ref],
  );
  if (!rows[0]) throw new UsageError(`no issuing CA named ${ref}`);
  return rows[0];
}

function kindOf(value: string | undefined): CrlKind {
  if (!value || !(CRL_KINDS as readonly string[]).includes(value)) throw new UsageError('--kind must be complete, partition or delta');
  return value as CrlKind;
}

const operator = () => `cli:${userInfo().username}`;

async function schedule(pool: Pool, args: string[]): Promise<void> {
  const ca = await findCa(pool, option(args, '--ca'));
  const kind = kindOf(option(args, '--kind'));
  const now = new Date();
  if (args.includes('--disable') || args.includes('--enable')) {
    const enabled = args.includes('--enable');
    await inTransaction(pool, async (client) => {
      const { rowCount } = await client.query(
        `UPDATE crl_schedule SET enabled = $3, updated_by = $4, updated_at = $5 WHERE ca_id = $1 AND kind = $2`,
        [ca.id, kind, enabled, operator(), now],
      );
      if (rowCount === 0) throw new UsageError(`no ${kind} schedule stored for ${ca.name}: set one first`);
      await appendAudit(client, scheduleChanged(ca.id, now, { kind, enabled }));
    });
    console.log(`${kind} CRL publication of ${ca.name} ${enabled ? 'enabled' : 'disabled'}`);
    return;
  }
  const interval = option(args, '--interval');
  const cron = option(args, '--cron');
  const timeZone = option(args, '--tz') ?? 'Asia/Taipei';
  const nextUpdate = Number(option(args, '--next-update'));
  const input = {
    cron: cron ?? null,
    cronTimeZone: timeZone,
    intervalSeconds: interval === undefined ? null : Number(interval),
    nextUpdateSeconds: nextUpdate,
  };
  const problems = scheduleProblems(input, now);
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  await inTransaction(pool, async (client) => {
    await client.query(
      `INSERT INTO crl_schedule (ca_id, kind, cron, cron_time_zone, interval_seconds, next_update_seconds, enabled, updated_by, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, true, $7, $8)
       ON CONFLICT (ca_id, kind) DO UPDATE SET cron = EXCLUDED.cron, cron_time_zone = EXCLUDED.cron_time_zone,
         interval_seconds = EXCLUDED.interval_seconds, next_update_seconds = EXCLUDED.next_update_seconds,
         enabled = true, updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at`,
      [ca.id, kind, input.cron, timeZone, input.intervalSeconds, nextUpdate, operator(), now],
    );
    await appendAudit(client, scheduleChanged(ca.id, now, { kind, ...input }));
  });
  console.log(`${kind} CRLs of ${ca.name}: ${cron ? `cron "${cron}" (${timeZone})` : `every ${interval} s`}, valid ${nextUpdate} s`);
}

/** The audit record of a schedule change made with this command. */
function scheduleChanged(caId: string, at: Date, after: Record<string, unknown>): AuditRecord {
  return { at, actorKind: 'operator', actorId: operator(), operation: 'crl.schedule-changed', subjectKind: 'certificate-authority', subjectId: caId, after };
}

async function schedules(pool: Pool, args: string[]): Promise<void> {
  const ca = await findCa(pool, option(args, '--ca'));
  const { rows } = await pool.query(`SELECT * FROM crl_schedule WHERE ca_id = $1`, [ca.id]);
  for (const kind of CRL_KINDS) {
    const row = rows.find((r) => r.kind === kind);
    const when = row ? (row.cron ? `cron "${row.cron}" (${row.cron_time_zone})` : `every ${row.interval_seconds} s`) : `every ${DEFAULT_SCHEDULES[kind].intervalSeconds} s (default)`;
    const valid = row ? row.next_update_seconds : DEFAULT_SCHEDULES[kind].nextUpdateSeconds;
    console.log(`${kind.padEnd(9)} ${when}, valid ${valid} s${row && !row.enabled ? ', DISABLED' : ''}${row ? `, set by ${row.updated_by ?? '-'}` : ''}`);
  }
}

async function publishNow(pool: Pool, args: string[]): Promise<void> {
  const ca = await findCa(pool, option(args, '--ca'));
  const kinds = (option(args, '--kinds') ?? 'complete,partition,delta').split(',').map((k) => kindOf(k.trim()));
  const now = new Date();
  const ordered = CRL_KINDS.filter((k) => kinds.includes(k));
  const ids = await requestPublications(
    pool,
    ordered.map((kind) => ({ caId: ca.id, kind, slotAt: now, trigger: 'manual' as const, requestedBy: operator() })),
    (publications) => ({
      at: now,
      actorKind: 'operator',
      actorId: operator(),
      operation: 'crl.publish-now',
      subjectKind: 'certificate-authority',
      subjectId: ca.id,
      after: { kinds, publications },
    }),
  );
  ordered.forEach((kind, i) => console.log(`${kind} publication ${ids[i]} queued`));
  if (!args.includes('--wait')) return;
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    const { rows } = await pool.query(`SELECT id, kind, state, attempts, last_error FROM crl_publication WHERE id = ANY($1::uuid[])`, [ids]);
    const failing = rows.filter((r) => r.state === 'failing');
    for (const r of failing) console.error(`${r.kind}: attempt ${r.attempts} failed: ${r.last_error}`);
    if (rows.every((r) => r.state === 'published')) {
      console.log('published');
      return;
    }
    if (Date.now() > deadline) throw new Error('not published within 10 minutes: is the worker running? (npm run start:worker)');
    await new Promise((done) => setTimeout(done, failing.length > 0 ? 10_000 : 1000));
  }
}

async function list(pool: Pool, args: string[]): Promise<void> {
  const ca = await findCa(pool, option(args, '--ca'));
  const limit = Number(option(args, '--limit') ?? 20);
  if (args.includes('--publications')) {
    const { rows } = await pool.query(
      `SELECT id, kind, slot_at, trigger, state, attempts, last_error FROM crl_publication WHERE ca_id = $1 ORDER BY requested_at DESC LIMIT $2`,
      [ca.id, limit],
    );
    for (const r of rows) {
      console.log(`${r.slot_at.toISOString()}  ${r.kind.padEnd(9)} ${r.trigger.padEnd(8)} ${r.state.padEnd(9)} attempts ${r.attempts}${r.last_error ? `  ${r.last_error}` : ''}  ${r.id}`);
    }
    return;
  }
  const kind = option(args, '--kind');
  const partition = option(args, '--partition');
  const values: unknown[] = [ca.id, limit];
  let where = 'ca_id = $1';
  if (kind) where += ` AND kind = $${values.push(kindOf(kind))}`;
  if (partition !== undefined) where += ` AND partition = $${values.push(Number(partition))}`;
  const { rows } = await pool.query(
    `SELECT crl_number, kind, partition, base_crl_number, this_update, next_update, entry_count, byte_size, encode(sha256, 'hex') AS sha256
       FROM published_crl WHERE ${where} ORDER BY crl_number DESC LIMIT $2`,
    values,
  );
  const urls = crlUrls(ca.name, process.env.PUBLIC_BASE_URL ?? 'http://127.0.0.1:3001', ca.crl_partitions);
  console.log('number  kind       part  base    thisUpdate                nextUpdate                entries     bytes  url');
  for (const r of rows) {
    const url = r.kind === 'complete' ? urls.complete : r.kind === 'partition' ? urls.partition(r.partition) : r.partition === null ? urls.completeDelta : urls.partitionDelta(r.partition);
    console.log(
      `${String(r.crl_number).padEnd(7)} ${r.kind.padEnd(10)} ${String(r.partition ?? '-').padEnd(5)} ${String(r.base_crl_number ?? '-').padEnd(7)} ` +
        `${r.this_update.toISOString()}  ${r.next_update.toISOString()}  ${String(r.entry_count).padStart(8)} ${String(r.byte_size).padStart(9)}  ${url}`,
    );
  }
}

async function backfill(pool: Pool, args: string[]): Promise<void> {
  const ca = await findCa(pool, option(args, '--ca'));
  const filled = await backfillCrlEntries(pool, ca.id);
  console.log(`${filled} CRL entr${filled === 1 ? 'y' : 'ies'} stored for ${ca.name}`);
}

async function main(): Promise<number> {
  const [command, ...args] = process.argv.slice(2);
  const commands: Record<string, (pool: Pool, args: string[]) => Promise<void>> = { schedule, schedules, 'publish-now': publishNow, list, backfill };
  if (!command || !commands[command]) {
    console.error(USAGE);
    return 2;
  }
  if (!process.env.DATABASE_URL) {
    console.error('DATABASE_URL is required');
    return 2;
  }
  const pool = new Pool({ connectionString: process.env.DATABASE_URL, application_name: 'moica-crl-cli', max: 2 });
  try {
    await commands[command](pool, args);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${error.message}\n\n${USAGE}`);
      return 2;
    }
    throw error;
  } finally {
    await pool.end();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
