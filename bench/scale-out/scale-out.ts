/**
 * Scale-out and resilience (issue 11), scripted on one machine over
 * loopback: a PostgreSQL primary and a streaming replica, one ca-api and
 * three workers on the primary, two OCSP responders on the replica; then
 * measurements, faults under load and a soak, ending with a consistency
 * check (database = latest CRL = OCSP on every responder). Prints a JSON
 * summary; exits 1 when a check failed.
 *
 *   npm run build && node dist/bench/scale-out/scale-out.js \
 *     [--seed-cards 20] [--revocations 5] [--fault-applications 12] \
 *     [--soak-seconds 60] [--ocsp-rate 300] [--ocsp-concurrency 8] [--verbose]
 *
 * Load is bounded (a fixed OCSP request rate, one or two registration
 * clients): the figures in docs/benchmarks.md come from a shared 2-core VM.
 * PostgreSQL binaries: see tools/replicated-postgres.ts (PG_BIN_DIR).
 */
import '../../tools/module-aliases';
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { verifyAuditChain } from '../../db/audit-chain';
import { startCaCluster, type AppProcess, type CaCluster } from './ca-cluster';
import { emptyTally, RegistrationClient, type ClientTally } from './registration-client';
import { crlEntries, expectedStatus, normaliseSerial, OcspClient, type SeenStatus } from './revocation-views';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i++) {
  const name = process.argv[i].replace(/^--/, '');
  const next = process.argv[i + 1];
  if (next !== undefined && !next.startsWith('--')) {
    args.set(name, next);
    i++;
  } else args.set(name, 'true');
}
const SEED_CARDS = Number(args.get('seed-cards') ?? 20);
const REVOCATIONS = Number(args.get('revocations') ?? 5);
const FAULT_APPLICATIONS = Number(args.get('fault-applications') ?? 12);
const SOAK_SECONDS = Number(args.get('soak-seconds') ?? 60);
const OCSP_RATE = Number(args.get('ocsp-rate') ?? 300);
const OCSP_CONCURRENCY = Number(args.get('ocsp-concurrency') ?? 8);
/** Replay paused on the standby for this long, beyond the responders' 60-s notice window (0: skip). */
const LAG_SECONDS = Number(args.get('lag-seconds') ?? 65);
const VERBOSE = args.has('verbose');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;
function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
const median = (values: number[]) => quantile(values, 0.5);
function say(message: string): void {
  process.stderr.write(`[scale-out ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/** A certificate the load generator knows, with the status the API last acknowledged and when. */
interface KnownCertificate {
  serial: string;
  cardNumber: string;
  expected: SeenStatus;
  changedAt: number;
  changing: boolean;
}

/** Adds an acknowledged application's certificates to what the load generator knows. */
function remember(
  known: KnownCertificate[],
  cards: Map<string, KnownCertificate[]>,
  result: { cardNumber: string; certificates: Array<{ serial: string; status: string }> },
): void {
  const certificates = result.certificates.map((certificate) => ({
    serial: normaliseSerial(certificate.serial),
    cardNumber: result.cardNumber,
    expected: expectedStatus(certificate.status),
    changedAt: Date.now(),
    changing: false,
  }));
  known.push(...certificates);
  cards.set(result.cardNumber, certificates);
}

const failures: string[] = [];
function check(condition: boolean, message: string): void {
  if (!condition) {
    failures.push(message);
    say(`CHECK FAILED: ${message}`);
  }
}

/**
 * OCSP load at a fixed rate over the known certificates, spread over the
 * responders. An answer is judged only when the certificate's status was
 * acknowledged by the API more than `settleMs` before the request (fresh
 * changes are judged by the visibility measurement instead): a judged
 * answer other than the expected status or tryLater is a wrong answer.
 */
class OcspLoad {
  sent = 0;
  judged = 0;
  wrong = 0;
  tryLater = 0;
  errors = 0;
  byResponder: number[];
  latencies: number[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  readonly wrongSamples: string[] = [];

  constructor(
    private readonly ocsp: OcspClient,
    private readonly responderUrls: string[],
    private readonly certificates: () => KnownCertificate[],
    private readonly rate: number,
    private readonly concurrency: number,
    private readonly settleMs = 3000,
  ) {
    this.byResponder = responderUrls.map(() => 0);
  }

  /** Which responders to use (a killed one is left out by the "load balancer"). */
  active: boolean[] = [];

  start(): void {
    this.running = true;
    this.active = this.responderUrls.map(() => true);
    const interval = (1000 * this.concurrency) / this.rate;
    this.loops = Array.from({ length: this.concurrency }, async (_, loop) => {
      await sleep((interval * loop) / this.concurrency);
      while (this.running) {
        const started = performance.now();
        const all = this.certificates();
        const usable = this.responderUrls.map((_, i) => i).filter((i) => this.active[i]);
        if (all.length > 0 && usable.length > 0) {
          const certificate = all[Math.floor(Math.random() * all.length)];
          const responder = usable[Math.floor(Math.random() * usable.length)];
          const judgeable = !certificate.changing && Date.now() - certificate.changedAt > this.settleMs;
          const expected = certificate.expected;
          const view = await this.ocsp.status(this.responderUrls[responder], certificate.serial);
          this.sent++;
          this.byResponder[responder]++;
          this.latencies.push(performance.now() - started);
          if (this.latencies.length > 200_000) this.latencies.splice(0, 100_000);
          if (view.status === 'error') this.errors++;
          else if (view.status === 'tryLater') this.tryLater++;
          else if (judgeable && !certificate.changing) {
            this.judged++;
            if (view.status !== expected) {
              this.wrong++;
              if (this.wrongSamples.length < 10) this.wrongSamples.push(`${certificate.serial}: expected ${expected}, responder ${responder + 1} said ${view.status}`);
            }
          }
        }
        const elapsed = performance.now() - started;
        if (elapsed < interval) await sleep(interval - elapsed);
      }
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  snapshot() {
    return { sent: this.sent, judged: this.judged, wrong: this.wrong, tryLater: this.tryLater, errors: this.errors, byResponder: [...this.byResponder] };
  }
}

async function main(): Promise<void> {
  const summary: Record<string, unknown> = {
    machine: 'shared 2-core VM; every process and both PostgreSQL servers on the same two cores',
    parameters: { SEED_CARDS, REVOCATIONS, FAULT_APPLICATIONS, SOAK_SECONDS, OCSP_RATE, OCSP_CONCURRENCY, LAG_SECONDS },
  };
  const started = performance.now();
  const cluster = await startCaCluster({ responders: 2, workers: 3, log: VERBOSE ? (line) => process.stderr.write(`${line}\n`) : undefined });
  summary.startUpSeconds = round((performance.now() - started) / 1000);
  summary.topology = {
    postgres: cluster.pg.binDir,
    primaryPort: cluster.pg.primary.port,
    replicaPort: cluster.pg.replica.port,
    caApi: 1,
    workers: cluster.workers.length,
    responders: cluster.responders.length,
  };
  say(`cluster up in ${summary.startUpSeconds} s`);
  // Ctrl-C or a kill: stop the apps and both PostgreSQL servers (their own process groups) before leaving.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      say(`${signal}: stopping the cluster`);
      void cluster.stop().finally(() => process.exit(130));
    });
  }
  process.once('uncaughtException', (error) => {
    say(`uncaught: ${error.stack ?? error.message}; stopping the cluster`);
    void cluster.stop().finally(() => process.exit(1));
  });
  try {
    await run(cluster, summary);
  } catch (error) {
    failures.push(`aborted: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    for (const app of [cluster.caApi, ...cluster.workers, ...cluster.responders]) say(`${app.name} output tail:\n${app.output().slice(-1500)}`);
  } finally {
    await cluster.stop();
  }
  summary.failures = failures;
  summary.ok = failures.length === 0;
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  process.exit(failures.length === 0 ? 0 : 1);
}

async function run(cluster: CaCluster, summary: Record<string, unknown>): Promise<void> {
  const ocsp = new OcspClient(cluster.issuingCaDer);
  const clerk = new RegistrationClient(cluster.caApiUrl, cluster.tokens.clerk);
  const known: KnownCertificate[] = [];
  const cards = new Map<string, KnownCertificate[]>();
  let nextCard = 1;
  const issue = async (client: RegistrationClient) => {
    const n = nextCard++;
    const result = await client.apply(n, 'SO');
    if (result.status !== 201) throw new Error(`application ${n}: ${result.status}`);
    remember(known, cards, result);
    return result;
  };

  // 1. Seed, two registration clients at once.
  say(`seeding ${SEED_CARDS} cards`);
  const started = performance.now();
  await Promise.all([0, 1].map(async () => {
    while (nextCard <= SEED_CARDS) await issue(clerk);
  }));
  summary.seed = { cards: cards.size, certificates: known.length, seconds: round((performance.now() - started) / 1000) };

  // 2. Replication lag, idle and while writing.
  const idleLag: number[] = [];
  for (let i = 0; i < 20; i++) {
    await cluster.primary.query(`SELECT txid_current()`); // one commit record in the WAL
    idleLag.push(await cluster.pg.replayLagMs());
  }
  summary.replicaReplayLagIdleMs = { median: round(median(idleLag)), max: round(Math.max(...idleLag)) };

  // 3. Revocation visibility: a revocation acknowledged by ca-api, until every responder on the replica answers revoked.
  say(`measuring revocation visibility over ${REVOCATIONS} revocations`);
  const visibility: number[][] = cluster.responderUrls.map(() => []);
  const replicaVisible: number[] = [];
  const lagAtRevocation: number[] = [];
  const seeded = [...cards.keys()];
  for (let i = 0; i < REVOCATIONS; i++) {
    const cardNumber = seeded[seeded.length - 1 - i];
    const certificate = cards.get(cardNumber)![0];
    // Warm every responder's cache with the old answer first: visibility includes the cache invalidation.
    for (const url of cluster.responderUrls) check((await ocsp.status(url, certificate.serial)).status === 'good', `revocation ${i}: not good before`);
    certificate.changing = true;
    const result = await clerk.revoke(cardNumber);
    const acknowledged = performance.now();
    check(result.status === 200, `revocation of ${cardNumber}: ${result.status}`);
    for (const revoked of cards.get(cardNumber)!) Object.assign(revoked, { expected: 'revoked', changedAt: Date.now(), changing: false });
    const [lag] = await Promise.all([
      cluster.pg.replayLagMs(),
      ...cluster.responderUrls.map(async (url, r) => {
        while (performance.now() - acknowledged < 30_000) {
          if ((await ocsp.status(url, certificate.serial)).status === 'revoked') {
            visibility[r].push(performance.now() - acknowledged);
            return;
          }
          await sleep(10);
        }
        check(false, `responder ${r + 1} did not answer revoked within 30 s`);
      }),
      (async () => {
        const replica = new Client({ connectionString: cluster.replicaUrl });
        await replica.connect();
        try {
          while (performance.now() - acknowledged < 30_000) {
            const { rows } = await replica.query(`SELECT status FROM certificate WHERE ltrim(encode(serial, 'hex'), '0') = ltrim($1, '0')`, [certificate.serial]);
            if (rows[0]?.status === 'revoked') {
              replicaVisible.push(performance.now() - acknowledged);
              return;
            }
            await sleep(2);
          }
        } finally {
          await replica.end();
        }
      })(),
    ]);
    lagAtRevocation.push(lag as number);
  }
  const worstVisibility = Math.max(...visibility.flat());
  summary.revocationVisibility = {
    definition: 'ms from the 200 of POST /v1/cards/{card}/revocation until the responder answers revoked (its cache held good before)',
    perResponder: visibility.map((values) => ({ median: round(median(values)), max: round(Math.max(...values)) })),
    replicaRowVisibleMs: { median: round(median(replicaVisible)), max: round(Math.max(...replicaVisible)) },
    replicaReplayLagMs: { median: round(median(lagAtRevocation)), max: round(Math.max(...lagAtRevocation)) },
  };
  check(worstVisibility <= 2000 + Math.max(...lagAtRevocation), `a responder took ${round(worstVisibility)} ms (> 2 s + replica lag) to answer revoked`);

  // 3b. A replica far behind: a revocation must not be undone when the notice window ends.
  if (LAG_SECONDS > 0) summary.replicaLagBeyondNoticeWindow = await replicaLagBeyondNoticeWindow(cluster, ocsp, clerk, cards, seeded[0]);

  // 4. Faults under load.
  const load = new OcspLoad(ocsp, cluster.responderUrls, () => known, OCSP_RATE, OCSP_CONCURRENCY);
  load.start();
  summary.faults = {
    primaryRestart: await primaryRestartUnderApplications(cluster, known, cards, () => nextCard, (n) => (nextCard = n)),
    responderKilled: await responderKilled(cluster, load),
    replicaStopped: await replicaStopped(cluster, load, ocsp),
  };
  await load.stop();
  summary.faultsOcspLoad = load.snapshot();
  check(load.wrong === 0, `OCSP gave ${load.wrong} wrong answers during the faults: ${load.wrongSamples.join('; ')}`);

  // 5. Soak.
  summary.soak = await soak(cluster, ocsp, clerk, known, cards, issue);

  // 6. Exactly once, and the final consistency check.
  summary.exactlyOnce = await exactlyOnce(cluster);
  summary.consistency = await consistency(cluster, ocsp);
  const exits = (apps: AppProcess[]) =>
    Object.fromEntries(
      apps
        .filter((app) => app.unexpectedExits.length > 0)
        .map((app) => [app.name, app.unexpectedExits.map((exit) => ({ code: exit.code, signal: exit.signal, lastLine: lastErrorLine(exit.tail) }))]),
    );
  // Workers run under a supervisor (restarted 2 s after an exit); ca-api and the responders must never exit.
  summary.workerExitsRestartedBySupervisor = exits(cluster.workers);
  const crashed = exits([cluster.caApi, ...cluster.responders]);
  summary.unexpectedExits = crashed;
  check(Object.keys(crashed).length === 0, `processes exited on their own: ${Object.keys(crashed).join(', ')}`);
  const audit = await verifyAuditChain(cluster.primary);
  check(audit.intact, `audit chain broken: ${JSON.stringify(audit)}`);
  summary.auditChain = audit;
}

/**
 * Replay paused on the standby (pg_wal_replay_pause) for LAG_SECONDS, longer
 * than the responders' 60-s notice window, and a certificate that no
 * responder has cached revoked meanwhile: asked only after the window, a
 * responder must still answer revoked (the notice outlives the measured
 * lag) although the standby still has the old row and the old pre-signed
 * "good" response.
 */
async function replicaLagBeyondNoticeWindow(
  cluster: CaCluster,
  ocsp: OcspClient,
  clerk: RegistrationClient,
  cards: Map<string, KnownCertificate[]>,
  cardNumber: string,
) {
  say(`replica replay paused for ${LAG_SECONDS} s, a revocation in the meantime`);
  const certificates = cards.get(cardNumber)!;
  const replica = new Client({ connectionString: cluster.replicaUrl });
  await replica.connect();
  try {
    await replica.query(`SELECT pg_wal_replay_pause()`);
    const pausedAt = performance.now();
    certificates.forEach((c) => (c.changing = true));
    const result = await clerk.revoke(cardNumber);
    check(result.status === 200, `revocation during the paused replay: ${result.status}`);
    certificates.forEach((c) => Object.assign(c, { expected: 'revoked', changedAt: Date.now() }));
    while (performance.now() - pausedAt < LAG_SECONDS * 1000) await sleep(500);
    const { rows } = await replica.query<{ status: string }>(
      `SELECT status FROM certificate WHERE card_id = (SELECT id FROM card WHERE card_number = $1)`,
      [cardNumber],
    );
    const answers = [];
    for (const certificate of certificates) for (const url of cluster.responderUrls) answers.push((await ocsp.status(url, certificate.serial)).status);
    const metrics = await Promise.all(cluster.responderUrls.map(async (url) => /^ocsp_replica_lag_seconds (\S+)$/m.exec(await (await fetch(`${url}/metrics`)).text())?.[1]));
    check(answers.every((answer) => answer === 'revoked'), `with the standby ${LAG_SECONDS} s behind, responders answered ${answers.join('/')} for a revoked card`);
    await replica.query(`SELECT pg_wal_replay_resume()`);
    const catchUpMs = await cluster.pg.replayLagMs({ timeoutMs: 60_000 });
    certificates.forEach((c) => (c.changing = false));
    return {
      pausedSeconds: LAG_SECONDS,
      standbyRowsAtTheEnd: rows.map((row) => row.status),
      responderAnswersAfterTheWindow: answers,
      responderReportedLagSeconds: metrics.map((value) => (value === undefined ? null : round(Number(value)))),
      catchUpAfterResumeMs: round(catchUpMs),
    };
  } finally {
    await replica.query(`SELECT pg_wal_replay_resume()`).catch(() => undefined);
    await replica.end();
  }
}

/** Applications from two clients while the primary is crashed (SIGQUIT) and started again 3 s later. */
async function primaryRestartUnderApplications(
  cluster: CaCluster,
  known: KnownCertificate[],
  cards: Map<string, KnownCertificate[]>,
  nextCard: () => number,
  setNextCard: (n: number) => void,
) {
  say(`fault: primary crash + restart during ${FAULT_APPLICATIONS} applications`);
  const clients = [0, 1].map(() => new RegistrationClient(cluster.caApiUrl, cluster.tokens.clerk, { maxRetryAfterSeconds: 65 }));
  const first = nextCard();
  const acknowledged: string[] = [];
  let index = 0;
  // At least FAULT_APPLICATIONS, and applications keep coming until 2 s after the primary is back.
  const restarted: { at?: number } = {};
  const more = () => index < FAULT_APPLICATIONS || restarted.at === undefined || performance.now() - restarted.at < 2000;
  const started = performance.now();
  const applying = Promise.all(clients.map(async (client) => {
    while (more()) {
      const n = first + index++;
      const result = await client.apply(n, 'SO');
      if (result.status === 201) {
        acknowledged.push(result.cardNumber);
        remember(known, cards, result);
      } else check(false, `application ${n} during the primary restart ended ${result.status}`);
    }
  }));
  await sleep(1500);
  const downAt = performance.now();
  await cluster.pg.primary.stop('immediate');
  await sleep(3000);
  await cluster.pg.primary.start();
  const upAt = performance.now();
  restarted.at = upAt;
  await applying;
  setNextCard(first + index);
  check(tallyOf(clients).unavailable503 + tallyOf(clients).networkErrors > 0, 'primary restart: no client request met the outage (raise --fault-applications)');
  const seconds = (performance.now() - started) / 1000;
  const replicaCatchUpMs = await cluster.pg.replayLagMs({ timeoutMs: 60_000 });

  const { rows } = await cluster.primary.query<{ card_number: string; cards: number; certificates: number; signed: number }>(
    `SELECT c.card_number, count(DISTINCT c.id)::int AS cards, count(t.id)::int AS certificates,
            count(t.id) FILTER (WHERE t.der IS NOT NULL AND t.status IN ('valid', 'on_hold'))::int AS signed
       FROM card c LEFT JOIN certificate t ON t.card_id = c.id
      WHERE c.card_number = ANY($1) GROUP BY c.card_number`,
    [acknowledged],
  );
  const exactlyOnce = rows.filter((row) => row.cards === 1 && row.certificates === 2 && row.signed === 2).length;
  check(exactlyOnce === acknowledged.length, `primary restart: ${exactlyOnce} of ${acknowledged.length} acknowledged applications exist exactly once, signed`);
  const leftovers = await cluster.primary.query<{ pending: number; abandoned: number; unfinishedClaims: number }>(
    `SELECT (SELECT count(*) FROM certificate WHERE status = 'pending')::int AS pending,
            (SELECT count(*) FROM certificate WHERE status = 'abandoned')::int AS abandoned,
            (SELECT count(*) FROM idempotency_key WHERE completed_at IS NULL)::int AS "unfinishedClaims"`,
  );
  const tally = tallyOf(clients);
  check(tally.serverErrors === 0, `primary restart: ${tally.serverErrors} 5xx other than 503`);
  return {
    applications: index,
    acknowledged: acknowledged.length,
    existExactlyOnceSigned: exactlyOnce,
    databaseDownSeconds: round((upAt - downAt) / 1000),
    wallSeconds: round(seconds),
    clientsSaw: tally,
    leftoversAfter: leftovers.rows[0],
    replicaCatchUpAfterRestartMs: round(replicaCatchUpMs),
  };
}

/** The last line of a process's output that names an error (for the summary). */
function lastErrorLine(tail: string): string {
  const lines = tail.split('\n').filter((line) => /error/i.test(line));
  const line = lines[lines.length - 1] ?? tail.split('\n').filter(Boolean).pop() ?? '';
  const message = /"msg":"([^"]{0,300})/.exec(line)?.[1];
  return (message ?? line).slice(0, 300);
}

function tallyOf(clients: RegistrationClient[]): ClientTally {
  const sum = emptyTally();
  for (const client of clients) for (const key of Object.keys(sum) as Array<keyof ClientTally>) sum[key] += client.tally[key];
  return sum;
}

/** One responder SIGKILLed under OCSP load; the load balancer (OcspLoad.active) routes to the other; then restarted. */
async function responderKilled(cluster: CaCluster, load: OcspLoad) {
  say('fault: responder 2 killed (SIGKILL) under OCSP load');
  await sleep(2000);
  const before = load.snapshot();
  const victim = cluster.responders[1];
  await victim.stop('SIGKILL');
  // Requests already in flight to it fail; a health-checking load balancer takes it out.
  load.active[1] = false;
  await sleep(3000);
  const during = load.snapshot();
  const restartStarted = performance.now();
  await victim.start();
  const readyMs = performance.now() - restartStarted;
  load.active[1] = true;
  await sleep(3000);
  const after = load.snapshot();
  return {
    answeredBySurvivorWhileDown: during.byResponder[0] - before.byResponder[0],
    failedInFlight: during.errors - before.errors,
    restartToReadyMs: round(readyMs),
    answeredByRestartedIn3s: after.byResponder[1] - during.byResponder[1],
    errorsAfterRestart: after.errors - during.errors,
    wrongAnswers: after.wrong - before.wrong,
  };
}

/**
 * The replica stopped for 10 s under OCSP load: certificates in a responder's
 * cache are answered from it (until their nextUpdate), others get tryLater;
 * never a wrong answer. Then the replica is started and catches up.
 */
async function replicaStopped(cluster: CaCluster, load: OcspLoad, ocsp: OcspClient) {
  say('fault: replica stopped for 10 s under OCSP load');
  const before = load.snapshot();
  await cluster.pg.replica.stop('fast');
  const stoppedAt = performance.now();
  // A serial no responder has cached (never issued): answering it needs the database, so tryLater, never unknown or good.
  const probes: string[] = [];
  const neverIssued = randomBytes(16).toString('hex').replace(/^0+/, '1');
  for (const url of cluster.responderUrls) probes.push((await ocsp.status(url, neverIssued)).status);
  check(probes.every((status) => status === 'tryLater'), `an uncached serial was answered ${probes.join('/')} with the replica down (expected tryLater)`);
  while (performance.now() - stoppedAt < 10_000) await sleep(200);
  const during = load.snapshot();
  await cluster.pg.replica.start();
  const catchUpMs = await cluster.pg.replayLagMs({ timeoutMs: 60_000 });
  await sleep(2000);
  const after = load.snapshot();
  check(during.wrong === before.wrong, 'wrong OCSP answers while the replica was down');
  return {
    downSeconds: 10,
    answeredFromCacheWhileDown: during.judged - before.judged,
    tryLaterWhileDown: during.tryLater - before.tryLater,
    errorsWhileDown: during.errors - before.errors,
    wrongWhileDown: during.wrong - before.wrong,
    uncachedSerialAnswers: probes,
    replicaCatchUpAfterStartMs: round(catchUpMs),
    tryLaterAfterRestart: after.tryLater - during.tryLater,
  };
}

/** Mixed load for SOAK_SECONDS: applications, suspensions and resumptions, OCSP at OCSP_RATE, CRLs every minute (schedule) and publish-now. */
async function soak(
  cluster: CaCluster,
  ocsp: OcspClient,
  clerk: RegistrationClient,
  known: KnownCertificate[],
  cards: Map<string, KnownCertificate[]>,
  issue: (client: RegistrationClient) => Promise<unknown>,
) {
  say(`soak: ${SOAK_SECONDS} s of mixed load`);
  const operator = { authorization: `Bearer ${cluster.tokens.operator}`, 'content-type': 'application/json' };
  const put = await fetch(`${cluster.caApiUrl}/v1/crl/authorities/${cluster.issuingCaId}/schedules/complete`, {
    method: 'PUT',
    headers: { ...operator, 'idempotency-key': 'soak-schedule-complete' },
    body: JSON.stringify({ intervalSeconds: 60, nextUpdateSeconds: 600 }),
  });
  check(put.status === 200, `CRL schedule: ${put.status} ${await put.text()}`);
  const soakClient = new RegistrationClient(cluster.caApiUrl, cluster.tokens.clerk);
  const statusClient = new RegistrationClient(cluster.caApiUrl, cluster.tokens.clerk);
  const load = new OcspLoad(ocsp, cluster.responderUrls, () => known, OCSP_RATE, OCSP_CONCURRENCY);
  const deadline = Date.now() + SOAK_SECONDS * 1000;
  const memory: Record<string, number[]> = {};
  const sampleMemory = () => {
    for (const app of [cluster.caApi, ...cluster.workers, ...cluster.responders]) (memory[app.name] ??= []).push(round(app.rssMb() ?? NaN));
  };
  let applications = 0;
  let statusChanges = 0;
  let publishNow = 0;
  let otherStatuses = 0;
  load.start();
  sampleMemory();
  const memoryTimer = setInterval(sampleMemory, Math.max(2000, (SOAK_SECONDS * 1000) / 30));
  await Promise.all([
    (async () => {
      while (Date.now() < deadline) {
        await issue(soakClient);
        applications++;
        await sleep(500);
      }
    })(),
    (async () => {
      while (Date.now() < deadline) {
        const candidates = [...cards.values()].filter((certificates) => certificates.every((c) => c.expected === 'good' || c.expected === 'hold'));
        const certificates = candidates[Math.floor(Math.random() * candidates.length)];
        if (certificates) {
          const suspending = certificates[0].expected === 'good';
          certificates.forEach((c) => (c.changing = true));
          const result = suspending ? await statusClient.suspend(certificates[0].cardNumber) : await statusClient.resume(certificates[0].cardNumber);
          if (result.status === 200) {
            statusChanges++;
            certificates.forEach((c) => Object.assign(c, { expected: suspending ? 'hold' : 'good', changedAt: Date.now() }));
          } else {
            otherStatuses++;
            if (otherStatuses < 5) say(`status change ${result.status}: ${JSON.stringify(result.body)}`);
          }
          certificates.forEach((c) => (c.changing = false));
        }
        await sleep(300);
      }
    })(),
    (async () => {
      while (Date.now() < deadline) {
        await sleep(20_000);
        const response = await fetch(`${cluster.caApiUrl}/v1/crl/authorities/${cluster.issuingCaId}/publications`, {
          method: 'POST',
          headers: { ...operator, 'idempotency-key': `soak-publish-${publishNow}` },
          body: JSON.stringify({ kinds: ['complete', 'delta'] }),
        });
        await response.arrayBuffer();
        if (response.status === 202) publishNow++;
        else check(false, `publish-now: ${response.status}`);
      }
    })(),
  ]);
  clearInterval(memoryTimer);
  sampleMemory();
  await load.stop();
  const ocspSeconds = SOAK_SECONDS;
  const snapshot = load.snapshot();
  const serverErrors = soakClient.tally.serverErrors + statusClient.tally.serverErrors + clerk.tally.serverErrors;
  const unavailable = soakClient.tally.unavailable503 + statusClient.tally.unavailable503;
  check(serverErrors === 0 && unavailable === 0, `soak: ${serverErrors} 5xx and ${unavailable} 503 from ca-api`);
  check(snapshot.wrong === 0, `soak: ${snapshot.wrong} wrong OCSP answers: ${load.wrongSamples.join('; ')}`);
  check(snapshot.errors === 0, `soak: ${snapshot.errors} failed OCSP requests`);
  const memorySummary = Object.fromEntries(
    Object.entries(memory).map(([name, values]) => {
      const quarter = Math.max(1, Math.floor(values.length / 4));
      return [name, { firstMb: values[0], secondQuarterMedianMb: median(values.slice(quarter, 2 * quarter)), lastQuarterMedianMb: median(values.slice(-quarter)), maxMb: Math.max(...values) }];
    }),
  );
  return {
    seconds: SOAK_SECONDS,
    applications,
    statusChanges,
    statusChangesRefused: otherStatuses,
    crlPublishNowRequests: publishNow,
    caApi5xx: serverErrors,
    caApi503: unavailable,
    ocsp: {
      ...snapshot,
      requestsPerSecond: round(snapshot.sent / ocspSeconds),
      latencyMs: { p50: round(median(load.latencies)), p99: round(quantile(load.latencies, 0.99)) },
    },
    memory: memorySummary,
  };
}

/** Every notice sent exactly once; every CRL publication (scheduled slot or publish-now) published once, CRL numbers strictly increasing. */
async function exactlyOnce(cluster: CaCluster) {
  say('checking exactly-once: notices and CRL publications');
  const deadline = Date.now() + 60_000;
  let open = { notices: -1, publications: -1 };
  while (Date.now() < deadline) {
    // A due notice whose job is locked by a worker that died (graphile-worker's lock lasts 4 hours) is
    // delayed, not lost: counted apart below.
    const { rows } = await cluster.primary.query<{ notices: number; publications: number }>(
      `SELECT (SELECT count(*) FROM notice n WHERE n.state = 'pending' AND n.due_at <= now()
                 AND NOT EXISTS (SELECT 1 FROM graphile_worker._private_jobs j
                                  WHERE j.key = 'notice:' || n.id AND j.locked_at < now() - interval '30 seconds'))::int AS notices,
              (SELECT count(*) FROM crl_publication WHERE state <> 'published')::int AS publications`,
    );
    open = rows[0];
    if (open.notices === 0 && open.publications === 0) break;
    await sleep(1000);
  }
  const notices = await cluster.primary.query<{ id: string; channel: string; state: string }>(`SELECT id::text, channel, state FROM notice`);
  const emailsById = new Map<string, number>();
  for (const email of cluster.emails) {
    const id = /<notice-(\d+)@/.exec(email.messageId)?.[1] ?? email.messageId;
    emailsById.set(id, (emailsById.get(id) ?? 0) + 1);
  }
  const smsById = new Map<string, number>();
  for (const clientId of cluster.smsClientIds) {
    const id = /notice-(\d+)/.exec(clientId)?.[1] ?? clientId;
    smsById.set(id, (smsById.get(id) ?? 0) + 1);
  }
  const sent = notices.rows.filter((notice) => notice.state === 'sent');
  const delivered = (notice: { id: string; channel: string }) => (notice.channel === 'email' ? emailsById : smsById).get(notice.id) ?? 0;
  const sentOnce = sent.filter((notice) => delivered(notice) === 1).length;
  const duplicates = [...emailsById.values(), ...smsById.values()].filter((count) => count > 1).length;
  const deliveredNotSent = notices.rows.filter((notice) => notice.state !== 'sent' && delivered(notice) > 0).length;
  check(open.notices === 0, `${open.notices} due notices still pending after 60 s`);
  check(sentOnce === sent.length && duplicates === 0, `notices: ${sentOnce}/${sent.length} delivered once, ${duplicates} duplicated`);
  // A notice whose worker died between the delivery and the commit of 'sent' stays locked by the dead
  // worker until graphile-worker's lock expiry (4 h); its retry reuses the Message-ID / SMS clientid.
  const lockedByDeadWorkers = await cluster.primary.query<{ jobs: number }>(
    `SELECT count(*)::int AS jobs FROM graphile_worker._private_jobs WHERE locked_at IS NOT NULL AND locked_at < now() - interval '30 seconds'`,
  );

  // A publication covers every scope of its kind (a delta: the complete delta and each partition's): each scope once.
  const publications = await cluster.primary.query<{ kind: string; trigger: string; state: string; crls: number; duplicated_scopes: number }>(
    `SELECT p.kind, p.trigger, p.state, count(c.id)::int AS crls,
            (SELECT count(*) FROM (SELECT 1 FROM published_crl d WHERE d.publication_id = p.id
                                    GROUP BY d.kind, d.partition HAVING count(*) > 1) x)::int AS duplicated_scopes
       FROM crl_publication p LEFT JOIN published_crl c ON c.publication_id = p.id GROUP BY p.id`,
  );
  const published = publications.rows.filter((row) => row.state === 'published');
  const notOnce = published.filter((row) => row.crls === 0 || row.duplicated_scopes > 0).length;
  const slots = await cluster.primary.query<{ duplicates: number }>(
    `SELECT count(*)::int AS duplicates FROM (SELECT 1 FROM crl_publication GROUP BY ca_id, kind, slot_at HAVING count(*) > 1) d`,
  );
  const numbers = await cluster.primary.query<{ crl_number: string }>(
    `SELECT crl_number::text FROM published_crl WHERE ca_id = $1 ORDER BY created_at, crl_number`,
    [cluster.issuingCaId],
  );
  let increasing = true;
  for (let i = 1; i < numbers.rows.length; i++) if (BigInt(numbers.rows[i].crl_number) <= BigInt(numbers.rows[i - 1].crl_number)) increasing = false;
  check(open.publications === 0, `${open.publications} CRL publications not published after 60 s`);
  check(notOnce === 0 && slots.rows[0].duplicates === 0, `CRL publications: ${notOnce} not published exactly once, ${slots.rows[0].duplicates} duplicate slots`);
  check(increasing, 'CRL numbers are not strictly increasing in publication order');
  const scheduled = published.filter((row) => row.trigger === 'schedule');
  return {
    notices: {
      total: notices.rows.length,
      sent: sent.length,
      deliveredExactlyOnce: sentOnce,
      duplicateDeliveries: duplicates,
      deliveredButNotYetMarkedSent: deliveredNotSent,
      jobsLockedByDeadWorkers: lockedByDeadWorkers.rows[0].jobs,
      emails: cluster.emails.length,
      sms: cluster.smsClientIds.length,
    },
    crl: {
      publications: published.length,
      scheduledPublications: scheduled.length,
      publishedExactlyOnce: published.length - notOnce,
      duplicateSlots: slots.rows[0].duplicates,
      crls: numbers.rows.length,
      crlNumbersStrictlyIncreasing: increasing,
      workersThatRan: cluster.workers.length,
    },
  };
}

/** Database = latest complete CRL (as downloaded from a responder) = OCSP on every responder, for every certificate. */
async function consistency(cluster: CaCluster, ocsp: OcspClient) {
  say('final consistency check');
  const operator = { authorization: `Bearer ${cluster.tokens.operator}`, 'content-type': 'application/json' };
  const requested = await fetch(`${cluster.caApiUrl}/v1/crl/authorities/${cluster.issuingCaId}/publications`, {
    method: 'POST',
    headers: { ...operator, 'idempotency-key': 'final-complete' },
    body: JSON.stringify({ kinds: ['complete'] }),
  });
  await requested.arrayBuffer();
  const requestedAt = new Date();
  // Wait for a complete CRL made after every status change above, then for the replica to hold it.
  for (let i = 0; i < 120; i++) {
    const { rows } = await cluster.primary.query(`SELECT 1 FROM published_crl WHERE ca_id = $1 AND kind = 'complete' AND created_at >= $2`, [cluster.issuingCaId, requestedAt]);
    if (rows.length > 0) break;
    await sleep(500);
  }
  await cluster.pg.replayLagMs();
  const certificates = await cluster.primary.query<{ serial: string; status: string }>(
    `SELECT encode(serial, 'hex') AS serial, status FROM certificate WHERE ca_id = $1 AND status IN ('valid', 'on_hold', 'suspended', 'revoked')`,
    [cluster.issuingCaId],
  );
  const crlResponse = await fetch(`${cluster.responderUrls[0]}/crl/${encodeURIComponent(cluster.issuingCaName)}/complete.crl`);
  const crl = crlEntries(new Uint8Array(await crlResponse.arrayBuffer()));
  let agree = 0;
  const disagreements: string[] = [];
  for (const row of certificates.rows) {
    const serial = normaliseSerial(row.serial);
    const expected = expectedStatus(row.status);
    const inCrl = crl.get(serial) ?? 'good';
    const answers = await Promise.all(cluster.responderUrls.map((url) => ocsp.status(url, serial)));
    if (inCrl === expected && answers.every((answer) => answer.status === expected)) agree++;
    else if (disagreements.length < 10) disagreements.push(`${serial}: database ${row.status}, CRL ${inCrl}, OCSP ${answers.map((a) => a.status).join('/')}`);
  }
  check(agree === certificates.rows.length, `consistency: ${certificates.rows.length - agree} certificates disagree: ${disagreements.join('; ')}`);
  return {
    certificates: certificates.rows.length,
    byStatus: certificates.rows.reduce<Record<string, number>>((counts, row) => ((counts[row.status] = (counts[row.status] ?? 0) + 1), counts), {}),
    crlEntries: crl.size,
    agreeDatabaseCrlOcsp: agree,
    disagreements,
  };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
