import { Client } from 'pg';
import { startCaCluster, type CaCluster } from '../bench/scale-out/ca-cluster';
import { RegistrationClient } from '../bench/scale-out/registration-client';
import { normaliseSerial, OcspClient } from '../bench/scale-out/revocation-views';
import { findReplicationBinaries } from '../tools/replicated-postgres';
import { applicationBody } from './support/ca-api-harness';
import { TestCard, validNationalId } from './support/card';

/**
 * Issue 11 in CI: a real PostgreSQL primary with a streaming replica
 * (pg_basebackup -R), the compiled ca-api and three workers on the
 * primary, an OCSP responder reading the replica. The figures (latency,
 * lag, soak) come from bench/scale-out/scale-out.ts, not from here.
 */
const binaries = findReplicationBinaries();
if (!binaries && process.env.CI === 'true') {
  throw new Error('PostgreSQL binaries with pg_basebackup are required under CI=true (.ci/run installs postgresql)');
}
if (!binaries) console.warn('skipping "scale-out": no PostgreSQL binaries with initdb, postgres and pg_basebackup (apt-get install postgresql, or set PG_BIN_DIR)');
const describeWithReplication = binaries ? describe : describe.skip;

describeWithReplication('scale-out: primary + streaming replica, responder on the replica, three workers', () => {
  let cluster: CaCluster;
  let ocsp: OcspClient;
  let clerk: RegistrationClient;

  beforeAll(async () => {
    cluster = await startCaCluster({ responders: 1, workers: 3 });
    ocsp = new OcspClient(cluster.issuingCaDer);
    clerk = new RegistrationClient(cluster.caApiUrl, cluster.tokens.clerk);
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  it('a revocation committed on the primary reaches the replica and the responder reading it', async () => {
    const issued = await clerk.apply(1, 'SC');
    expect(issued.status).toBe(201);
    const serial = normaliseSerial(issued.certificates[0].serial);
    const responder = cluster.responderUrls[0];
    expect((await ocsp.status(responder, serial)).status).toBe('good');

    expect((await clerk.revoke(issued.cardNumber)).status).toBe(200);
    const revokedAt = Date.now();
    const replica = new Client({ connectionString: cluster.replicaUrl });
    await replica.connect();
    try {
      // Generous bounds (a loaded CI machine); the bench measures the real figures.
      await eventually(async () => (await ocsp.status(responder, serial)).status === 'revoked', 20_000);
      await eventually(async () => {
        const { rows } = await replica.query(`SELECT status FROM certificate WHERE card_id = (SELECT id FROM card WHERE card_number = $1)`, [issued.cardNumber]);
        return rows.length === 2 && rows.every((row) => row.status === 'revoked');
      }, 20_000);
      const { rows } = await replica.query<{ recovering: boolean }>(`SELECT pg_is_in_recovery() AS recovering`);
      expect(rows[0].recovering).toBe(true);
    } finally {
      await replica.end();
    }
    expect(Date.now() - revokedAt).toBeLessThan(20_000);
  }, 60_000);

  it('three workers publish each requested CRL exactly once, with strictly increasing CRL numbers', async () => {
    const operator = { authorization: `Bearer ${cluster.tokens.operator}`, 'content-type': 'application/json' };
    // Three publish-now requests at once (each one publication per kind), picked up by whichever workers are free.
    const requests = await Promise.all(
      [1, 2, 3].map((i) =>
        fetch(`${cluster.caApiUrl}/v1/crl/authorities/${cluster.issuingCaId}/publications`, {
          method: 'POST',
          headers: { ...operator, 'idempotency-key': `scale-publish-${i}` },
          body: JSON.stringify({ kinds: ['complete', 'delta'] }),
        }),
      ),
    );
    expect(requests.map((response) => response.status)).toEqual([202, 202, 202]);
    // Requests made in the same millisecond share a slot and so one publication per kind (by design:
    // crl_publication is unique per CA, kind and slot), so count the publications the answers name.
    const named = new Set<string>();
    for (const response of requests) {
      const body = (await response.json()) as { publications: { id: string }[] };
      for (const publication of body.publications) named.add(publication.id);
    }
    expect(named.size).toBeGreaterThanOrEqual(2);
    await eventually(async () => {
      const { rows } = await cluster.primary.query(`SELECT 1 FROM crl_publication WHERE state <> 'published'`);
      return rows.length === 0;
    }, 45_000);
    const scopes = await cluster.primary.query<{ times: number }>(
      `SELECT count(*)::int AS times FROM published_crl WHERE publication_id IS NOT NULL GROUP BY publication_id, kind, partition`,
    );
    expect(scopes.rows.length).toBeGreaterThan(0);
    expect(scopes.rows.every((row) => row.times === 1)).toBe(true);
    const publications = await cluster.primary.query<{ crls: number }>(
      `SELECT count(c.id)::int AS crls FROM crl_publication p LEFT JOIN published_crl c ON c.publication_id = p.id WHERE p.id = ANY($1::uuid[]) GROUP BY p.id`,
      [[...named]],
    );
    expect(publications.rows.length).toBe(named.size);
    expect(publications.rows.every((row) => row.crls >= 1)).toBe(true);
    const numbers = await cluster.primary.query<{ n: string }>(`SELECT crl_number::text AS n FROM published_crl WHERE ca_id = $1 ORDER BY created_at, crl_number`, [
      cluster.issuingCaId,
    ]);
    const values = numbers.rows.map((row) => BigInt(row.n));
    expect(values.every((value, i) => i === 0 || value > values[i - 1])).toBe(true);
  }, 60_000);

  it('answers 503 problem+json with Retry-After while the primary is down; the retry with the same Idempotency-Key applies once', async () => {
    const card = await TestCard.create('SC0000000000099');
    const body = JSON.stringify(
      applicationBody(card, { signature: await card.csr('signature'), encryption: await card.csr('encryption') }, {
        applicant: { name: '林小華', nationalId: validNationalId(99), dateOfBirth: '1985-03-04', mobile: '0912345678', email: 'h99@example.tw' },
      }),
    );
    const post = () =>
      fetch(`${cluster.caApiUrl}/v1/applications`, {
        method: 'POST',
        headers: { authorization: `Bearer ${cluster.tokens.clerk}`, 'content-type': 'application/json', 'idempotency-key': 'restart-1' },
        body,
      });

    await cluster.pg.primary.stop('fast');
    let down: Response;
    try {
      down = await post();
    } finally {
      await cluster.pg.primary.start();
    }
    expect(down.status).toBe(503);
    expect(down.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(Number(down.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await down.json()) as { type: string }).type).toBe('urn:moica-ca:problem:database-unavailable');

    // The pool's connections died with the server: the first tries after the restart may still see 503.
    let retried: Response | undefined;
    await eventually(async () => {
      retried = await post();
      return retried.status !== 503;
    }, 30_000);
    expect(retried!.status).toBe(201);
    const first = (await retried!.json()) as { certificates: unknown[] };
    const replay = await post();
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(((await replay.json()) as { certificates: unknown[] }).certificates).toEqual(first.certificates);
    const { rows } = await cluster.primary.query<{ cards: number; certificates: number }>(
      `SELECT count(DISTINCT c.id)::int AS cards, count(t.id)::int AS certificates FROM card c JOIN certificate t ON t.card_id = c.id WHERE c.card_number = $1`,
      ['SC0000000000099'],
    );
    expect(rows[0]).toEqual({ cards: 1, certificates: 2 });
    // ca-api itself never exited (the workers may have, under their supervisor).
    expect(cluster.caApi.unexpectedExits).toEqual([]);
    expect(cluster.responders[0].unexpectedExits).toEqual([]);
  }, 90_000);
});

async function eventually(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (await condition()) return;
    } catch {
      // not yet (a connection refused while a server restarts)
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}
