/**
 * CRL publication on a real PostgreSQL, read by real clients (issue 7):
 * `openssl crl -text` and `certtool --crl-info` parse every kind of CRL;
 * `openssl verify -crl_check` accepts a good certificate and rejects a
 * revoked one with the complete CRL and with its partition CRL; a
 * suspended-then-resumed certificate is removeFromCRL in the delta and absent
 * from the next complete CRL; CRL numbers never go backwards, also with two
 * publishers at once.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { encodeCrlEntry, revocationIssuerFromCertificate, SoftwareSigner } from '@moica/pki';
import { keyIdentifierOf, makeTestCertificate, testName, toPem } from '../libs/pki/src/revocation/testing/test-certificates';
import { createTestDatabase } from '../test/support/database';
import { describeWithTools } from '../test/support/system-tool';
import { backfillCrlEntries } from './crl-changes';
import { binaryCopyValues } from './crl-copy';
import { crlUrls, parseCrlFileName, partitionFor, partitionForSql } from './crl-partition';
import { CaForCrl, CrlKind, loadCaForCrl, publishCrlScope } from './crl-publication';
import { runPublication } from './crl-publisher';
import { crlTick, latestSlot, scheduleProblems } from './crl-schedule';

const BASE_URL = 'http://crl.test.example.tw';
const PARTITIONS = 4;
const NOT_BEFORE = new Date('2025-01-01T00:00:00Z');
const NOT_AFTER = new Date('2030-01-01T00:00:00Z');
const T0 = new Date('2026-11-28T10:00:00Z');
const hours = (h: number) => new Date(T0.getTime() + h * 3600_000);
const BULK = 3000;

function run(command: string, args: string[], cwd: string): { status: number | null; out: string } {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

describe('CRL helpers', () => {
  it.each([
    ['01', 16],
    ['7f3a9c', 16],
    ['00ff00ff00ff00ff00ff', 4096],
    ['00ff00ff00ff00ff00ff', 1],
  ])('partitionFor(%s, %d) is deterministic and in range', (hex, partitions) => {
    const p = partitionFor(Buffer.from(hex, 'hex'), partitions);
    expect(p).toBe(partitionFor(Buffer.from(hex, 'hex'), partitions));
    expect(p).toBeGreaterThanOrEqual(0);
    expect(p).toBeLessThan(partitions);
    expect(() => partitionFor(Buffer.from(hex, 'hex'), 0)).toThrow(RangeError);
  });

  it('parses CRL file names of the profile layout', () => {
    expect(parseCrlFileName('ca', '7.crl')).toEqual({ caName: 'ca', kind: 'partition', partition: 7 });
    expect(parseCrlFileName('ca', '7-delta.crl')).toEqual({ caName: 'ca', kind: 'delta', partition: 7 });
    expect(parseCrlFileName('ca', 'complete.crl')).toEqual({ caName: 'ca', kind: 'complete', partition: null });
    expect(parseCrlFileName('ca', 'complete-delta.crl')).toEqual({ caName: 'ca', kind: 'delta', partition: null });
    expect(parseCrlFileName('ca', '07.crl')).toBeUndefined();
    expect(parseCrlFileName('ca', '../x.crl')).toBeUndefined();
  });

  it('builds the URLs certificates carry (moicaProfile templates)', () => {
    const urls = crlUrls('dev issuing', BASE_URL + '/', 16);
    expect(urls.partition(3)).toBe(`${BASE_URL}/crl/dev%20issuing/3.crl`);
    expect(urls.partitionDelta(3)).toBe(`${BASE_URL}/crl/dev%20issuing/3-delta.crl`);
    expect(urls.complete).toBe(`${BASE_URL}/crl/dev%20issuing/complete.crl`);
    expect(urls.completeDelta).toBe(`${BASE_URL}/crl/dev%20issuing/complete-delta.crl`);
  });

  it.each([
    [{ intervalSeconds: 3600, nextUpdateSeconds: 7200 }, []],
    [{ intervalSeconds: 3600, nextUpdateSeconds: 3700 }, [expect.stringContaining('at least 4500')]],
    [{ cron: '0 0 * * *', nextUpdateSeconds: 129600 }, []],
    [{ cron: '0 0 * * *', nextUpdateSeconds: 86400 }, [expect.stringContaining('at least')]],
    [{ cron: 'nonsense', nextUpdateSeconds: 86400 }, [expect.stringContaining('cron must be')]],
    [{ cron: '0 0 * * *', intervalSeconds: 60, nextUpdateSeconds: 86400 }, ['give exactly one of cron and intervalSeconds']],
    [{ intervalSeconds: 30, nextUpdateSeconds: 86400 }, [expect.stringContaining('at least 60')]],
  ])('scheduleProblems(%j)', (input, problems) => {
    expect(scheduleProblems(input, T0)).toEqual(problems);
  });

  it('finds the latest slot of an interval (epoch-aligned) and of a cron expression (in its zone)', () => {
    const now = new Date('2026-11-28T10:17:05Z');
    expect(latestSlot({ intervalSeconds: 3600, cron: null, cronTimeZone: 'UTC' }, now)).toEqual(new Date('2026-11-28T10:00:00Z'));
    // 00:00 Asia/Taipei is 16:00 UTC the day before
    expect(latestSlot({ intervalSeconds: null, cron: '0 0 * * *', cronTimeZone: 'Asia/Taipei' }, now)).toEqual(
      new Date('2026-11-27T16:00:00Z'),
    );
    expect(latestSlot({ intervalSeconds: null, cron: '15 * * * *', cronTimeZone: 'UTC' }, new Date('2026-11-28T10:15:00Z'))).toEqual(
      new Date('2026-11-28T10:15:00Z'),
    );
  });

  it('reads one-column binary COPY values split at any byte boundary', async () => {
    const values = [Buffer.from('a'), Buffer.alloc(0), Buffer.alloc(70_000, 7), Buffer.from('xyz')];
    const header = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
    const tuples = values.map((v) => {
      const h = Buffer.alloc(6);
      h.writeInt16BE(1, 0);
      h.writeInt32BE(v.length, 2);
      return Buffer.concat([h, v]);
    });
    const nullTuple = Buffer.from([0, 1, 0xff, 0xff, 0xff, 0xff]);
    const stream = Buffer.concat([header, tuples[0], nullTuple, ...tuples.slice(1), Buffer.from([0xff, 0xff])]);
    for (const size of [1, 5, 7, 1000, 65536, stream.length]) {
      const pieces: Buffer[] = [];
      for (let i = 0; i < stream.length; i += size) pieces.push(stream.subarray(i, i + size));
      const got: Uint8Array[] = [];
      for await (const batch of binaryCopyValues(pieces)) got.push(...batch);
      expect(got.map((v) => Buffer.from(v))).toEqual(values);
    }
    for (const size of [1, 5, 7, 1000, 65536, stream.length]) {
      const pieces: Buffer[] = [];
      for (let i = 0; i < stream.length; i += size) pieces.push(Buffer.from(stream.subarray(i, i + size)));
      const got: Uint8Array[] = [];
      for await (const batch of binaryCopyValues(pieces, { compact: true })) got.push(...batch);
      expect(Buffer.concat(got)).toEqual(Buffer.concat(values));
    }
    await expect(
      (async () => {
        for await (const batch of binaryCopyValues([stream], { nulls: 'refuse' })) void batch;
      })(),
    ).rejects.toThrow(/NULL/);
    await expect(
      (async () => {
        for await (const batch of binaryCopyValues([stream.subarray(0, stream.length - 2)])) void batch;
      })(),
    ).rejects.toThrow(/ended early/);
  });
});

describeWithTools(['openssl', 'certtool'], 'CRL publication from PostgreSQL with real clients', () => {
  let db: { url: string; drop(): Promise<void> };
  let pool: Pool;
  let dir: string;
  let signer: SoftwareSigner;
  let caId: string;
  let caName: string;
  const leaves: Record<'good' | 'revoked' | 'suspended', { id: string; serial: Buffer; partition: number }> = {} as never;
  let clock = T0;

  const deps = () => ({
    pool,
    signerFor: async (ca: CaForCrl) => {
      expect(ca.id).toBe(caId);
      return signer;
    },
    publicBaseUrl: BASE_URL,
    now: () => clock,
  });

  async function publish(kind: CrlKind, at: Date) {
    clock = at;
    const { rows } = await pool.query(
      `INSERT INTO crl_publication (ca_id, kind, slot_at, trigger) VALUES ($1, $2, $3, 'manual') RETURNING id`,
      [caId, kind, at],
    );
    return runPublication(deps(), rows[0].id);
  }

  async function latest(kind: CrlKind, partition: number | null, name: string): Promise<{ number: bigint; text: string }> {
    const { rows } = await pool.query(
      `SELECT crl_number, der FROM published_crl WHERE ca_id = $1 AND kind = $2 AND partition IS NOT DISTINCT FROM $3
        ORDER BY crl_number DESC LIMIT 1`,
      [caId, kind, partition],
    );
    writeFileSync(join(dir, `${name}.crl`), rows[0].der);
    expect(run('openssl', ['crl', '-inform', 'DER', '-in', `${name}.crl`, '-out', `${name}.crl.pem`], dir).status).toBe(0);
    const shown = run('openssl', ['crl', '-inform', 'DER', '-in', `${name}.crl`, '-noout', '-text', '-CAfile', 'ca.pem'], dir);
    expect(shown.out).toContain('verify OK');
    expect(shown.status).toBe(0);
    const info = run('certtool', ['--crl-info', '--inder', '--infile', `${name}.crl`], dir);
    expect(info.status).toBe(0);
    expect(info.out).toContain('Version: 2');
    return { number: BigInt(rows[0].crl_number), text: shown.out };
  }

  async function changeStatus(leaf: keyof typeof leaves, to: 'valid' | 'suspended' | 'revoked', at: Date, reason?: 'keyCompromise') {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query(`SELECT status FROM certificate WHERE id = $1 FOR UPDATE`, [leaves[leaf].id]);
      const listed = to !== 'valid';
      const crlReason = to === 'suspended' ? 'certificateHold' : reason;
      await client.query(
        `UPDATE certificate SET status = $2, revoked_at = $3, revocation_reason = $4, suspended_by = $5, crl_entry_der = $6, status_changed_at = $7
          WHERE id = $1`,
        [
          leaves[leaf].id,
          to,
          listed ? at : null,
          to === 'suspended' ? 6 : to === 'revoked' ? 1 : null,
          to === 'suspended' ? 'holder' : null,
          listed ? Buffer.from(encodeCrlEntry({ serial: new Uint8Array(leaves[leaf].serial), revokedAt: at, reason: crlReason })) : null,
          at,
        ],
      );
      await client.query(
        `INSERT INTO certificate_status_event (certificate_id, from_status, to_status, reason, at, actor_kind) VALUES ($1, $2, $3, $4, $5, 'test')`,
        [leaves[leaf].id, rows[0].status, to, to === 'suspended' ? 6 : to === 'revoked' ? 1 : 8, at],
      );
      await client.query('COMMIT');
    } finally {
      client.release();
    }
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url, max: 6 });
    dir = mkdtempSync(join(tmpdir(), 'moica-crl-'));
    signer = await SoftwareSigner.generate('software:test-crl-ca', { kind: 'RSA', modulusBits: 2048 });
    const caDer = await makeTestCertificate({
      serial: 1n,
      commonName: 'CRL Test Issuing CA',
      subjectPublicKeySpki: signer.publicKeySpki,
      notBefore: NOT_BEFORE,
      notAfter: NOT_AFTER,
      role: 'ca',
      signer,
    });
    writeFileSync(join(dir, 'ca.pem'), toPem(caDer, 'CERTIFICATE'));
    const issuer = revocationIssuerFromCertificate(caDer);
    caName = 'test issuing';
    const ca = await pool.query(
      `INSERT INTO certificate_authority (name, role, subject_dn, certificate_der, key_location, key_algorithm,
          spki_sha1, spki_sha256, subject_sha1, subject_sha256, not_before, not_after, crl_partitions)
       VALUES ($1, 'issuing', 'CN=CRL Test Issuing CA', $2, 'software:/unused', 'RSA-2048', $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
      [
        caName,
        Buffer.from(caDer),
        Buffer.from(issuer.certIdHashes.sha1.keyHash),
        Buffer.from(issuer.certIdHashes.sha256.keyHash),
        Buffer.from(issuer.certIdHashes.sha1.nameHash),
        Buffer.from(issuer.certIdHashes.sha256.nameHash),
        NOT_BEFORE,
        NOT_AFTER,
        PARTITIONS,
      ],
    );
    caId = ca.rows[0].id;
    const urls = crlUrls(caName, BASE_URL, PARTITIONS);
    const leafKey = await SoftwareSigner.generate('software:test-leaf', { kind: 'EC', curve: 'P-256' });
    let serial = 0x1000n;
    for (const name of ['good', 'revoked', 'suspended'] as const) {
      serial += 1n;
      const serialBytes = Buffer.from(serial.toString(16).padStart(4, '0'), 'hex');
      const partition = partitionFor(serialBytes, PARTITIONS);
      const der = await makeTestCertificate({
        serial,
        commonName: `holder ${name}`,
        subjectPublicKeySpki: leafKey.publicKeySpki,
        notBefore: NOT_BEFORE,
        notAfter: NOT_AFTER,
        role: 'leaf',
        issuer: { nameDer: testName('CRL Test Issuing CA'), keyIdentifier: keyIdentifierOf(signer.publicKeySpki) },
        signer,
        crlDistributionPointUri: urls.partition(partition),
      });
      writeFileSync(join(dir, `${name}.pem`), toPem(der, 'CERTIFICATE'));
      const { rows } = await pool.query(
        `INSERT INTO certificate (ca_id, serial, kind, status, not_before, not_after, tbs_der, der, spki_sha256, crl_partition)
         VALUES ($1, $2, 'signature', 'valid', $3, $4, '\\x30', $5, '\\x01', $6) RETURNING id`,
        [caId, serialBytes, NOT_BEFORE, NOT_AFTER, Buffer.from(der), partition],
      );
      leaves[name] = { id: rows[0].id, serial: serialBytes, partition };
    }
    await leafKey.close();
    // Bulk: revoked certificates without stored entries (backfilled), one expired.
    await pool.query(
      `INSERT INTO certificate (ca_id, serial, kind, status, not_before, not_after, tbs_der, der, spki_sha256, crl_partition,
                                revoked_at, revocation_reason)
       SELECT $1, s.serial, 'signature', 'revoked', $2, CASE WHEN i = 1 THEN $5::timestamptz ELSE $3::timestamptz END,
              '\\x30', '\\x30', '\\x01', ${partitionForSql('s.serial', String(PARTITIONS))}, $4, CASE WHEN i % 2 = 0 THEN 1 ELSE 0 END
         FROM generate_series(1, ${BULK}) i, LATERAL (SELECT decode(md5(i::text), 'hex') AS serial) s`,
      [caId, NOT_BEFORE, NOT_AFTER, hours(-48), new Date('2026-01-01T00:00:00Z')],
    );
  });

  afterAll(async () => {
    await signer?.close();
    await pool?.end();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('assigns partitions in SQL exactly as partitionFor does', async () => {
    const { rows } = await pool.query(`SELECT serial, crl_partition FROM certificate WHERE ca_id = $1`, [caId]);
    for (const row of rows) expect(row.crl_partition).toBe(partitionFor(row.serial, PARTITIONS));
  });

  it('backfills missing entry DERs', async () => {
    expect(await backfillCrlEntries(pool, caId, 1000)).toBe(BULK);
    expect(await backfillCrlEntries(pool, caId)).toBe(0);
  });

  it('publishes the complete CRL and every partition; openssl and certtool parse them; verify -crl_check decides', async () => {
    await changeStatus('revoked', 'revoked', hours(-1), 'keyCompromise');
    const complete = await publish('complete', hours(0));
    expect(complete.crls).toHaveLength(1);
    // the bulk minus the expired one, plus the revoked leaf
    expect(complete.crls[0].entryCount).toBe(BULK - 1 + 1);
    const partitions = await publish('partition', hours(0.1));
    expect(partitions.crls.map((c) => c.scope.partition)).toEqual([0, 1, 2, 3]);
    expect(partitions.crls.reduce((n, c) => n + c.entryCount, 0)).toBe(BULK);

    const completeCrl = await latest('complete', null, 'complete');
    expect(completeCrl.text).toContain(`X509v3 Freshest CRL:`);
    expect(completeCrl.text).toContain(`${BASE_URL}/crl/test%20issuing/complete-delta.crl`);
    expect(completeCrl.text).toContain(`Serial Number: ${leaves.revoked.serial.toString('hex').toUpperCase()}`);
    expect(completeCrl.text).toContain('Key Compromise');
    expect(completeCrl.text).not.toContain('Unspecified'); // RFC 5280 §5.3.1: no reasonCode for unspecified
    const p = leaves.revoked.partition;
    const partitionCrl = await latest('partition', p, 'partition');
    expect(partitionCrl.text).toContain('X509v3 Issuing Distribution Point: critical');
    expect(partitionCrl.text).toContain(`${BASE_URL}/crl/test%20issuing/${p}.crl`);
    expect(partitionCrl.text).toContain(`${BASE_URL}/crl/test%20issuing/${p}-delta.crl`);
    await latest('partition', leaves.good.partition, 'partition-of-good');

    const attime = String(Math.floor(hours(0.5).getTime() / 1000));
    const verify = (crl: string, leaf: string) =>
      run('openssl', ['verify', '-attime', attime, '-crl_check', '-CAfile', 'ca.pem', '-CRLfile', `${crl}.crl.pem`, `${leaf}.pem`], dir);
    expect(verify('complete', 'good').out).toContain('good.pem: OK');
    expect(verify('complete', 'revoked').out).toContain('certificate revoked');
    expect(verify('partition-of-good', 'good').out).toContain('good.pem: OK');
    expect(verify('partition', 'revoked').out).toContain('certificate revoked');
    expect(verify('partition', 'revoked').status).not.toBe(0);
  });

  it('lists a suspension with certificateHold, then the resumption as removeFromCRL in the delta, and not in the next complete CRL', async () => {
    await changeStatus('suspended', 'suspended', hours(0.9));
    await publish('complete', hours(1));
    await publish('partition', hours(1.1));
    const held = await latest('complete', null, 'complete-held');
    const serialText = `Serial Number: ${leaves.suspended.serial.toString('hex').toUpperCase()}`;
    expect(held.text).toContain(serialText);
    expect(held.text).toContain('Certificate Hold');

    await changeStatus('suspended', 'valid', hours(1.5));
    const deltas = await publish('delta', hours(2));
    expect(deltas.crls).toHaveLength(1 + PARTITIONS);
    const delta = await latest('delta', null, 'complete-delta');
    expect(delta.text).toContain(`Delta CRL Indicator: critical`);
    expect(delta.text).toContain(String(held.number));
    expect(delta.text).toContain(serialText);
    expect(delta.text).toContain('Remove From CRL');
    expect(delta.number).toBeGreaterThan(held.number);
    const partitionDelta = await latest('delta', leaves.suspended.partition, 'partition-delta');
    expect(partitionDelta.text).toContain('Remove From CRL');
    expect(partitionDelta.text).toContain('Issuing Distribution Point: critical');
    for (let p = 0; p < PARTITIONS; p++) {
      if (p === leaves.suspended.partition) continue;
      const other = await latest('delta', p, `delta-${p}`);
      expect(other.text).toContain('No Revoked Certificates');
    }
    // openssl combines base and delta: the resumed certificate is good again
    const attime = String(Math.floor(hours(2.5).getTime() / 1000));
    const combined = run(
      'openssl',
      ['verify', '-attime', attime, '-crl_check', '-use_deltas', '-CAfile', 'ca.pem', '-CRLfile', 'complete-held.crl.pem', '-CRLfile', 'complete-delta.crl.pem', 'suspended.pem'],
      dir,
    );
    expect(combined.out).toContain('suspended.pem: OK');
    // and with the certificate's own partition CRL and that partition's delta
    const partitionHeld = await latest('partition', leaves.suspended.partition, 'partition-held');
    expect(partitionHeld.text).toContain(serialText);
    expect(partitionDelta.text).toContain(`Delta CRL Indicator: critical`);
    const combinedPartition = run(
      'openssl',
      ['verify', '-attime', attime, '-crl_check', '-use_deltas', '-CAfile', 'ca.pem', '-CRLfile', 'partition-held.crl.pem', '-CRLfile', 'partition-delta.crl.pem', 'suspended.pem'],
      dir,
    );
    expect(combinedPartition.out).toContain('suspended.pem: OK');
    const heldOnly = run('openssl', ['verify', '-attime', attime, '-crl_check', '-CAfile', 'ca.pem', '-CRLfile', 'partition-held.crl.pem', 'suspended.pem'], dir);
    expect(heldOnly.out).toContain('certificate revoked');

    await publish('complete', hours(3));
    const after = await latest('complete', null, 'complete-after');
    expect(after.text).not.toContain(serialText);
    expect(after.number).toBeGreaterThan(delta.number);
  });

  it('keeps the entries of expired certificates when the CA says so (ExpiredCertsOnCRL)', async () => {
    await pool.query(`UPDATE certificate_authority SET expired_certs_on_crl = true WHERE id = $1`, [caId]);
    const kept = await publish('complete', hours(3.5));
    await pool.query(`UPDATE certificate_authority SET expired_certs_on_crl = false WHERE id = $1`, [caId]);
    // the bulk including its expired row, plus the revoked leaf
    expect(kept.crls[0].entryCount).toBe(BULK + 1);
  });

  it('builds the same CRL content without the parallel sum (entriesLength: stream), and refuses a listed row without its entry', async () => {
    const ca = await loadCaForCrl(pool, caId);
    const request = async (at: Date) =>
      (await pool.query(`INSERT INTO crl_publication (ca_id, kind, slot_at, trigger) VALUES ($1, 'complete', $2, 'manual') RETURNING id`, [caId, at])).rows[0].id;
    const context = (id: string, at: Date, entriesLength: 'stream' | 'snapshot-sum') =>
      ({ pool, ca, signer, publicBaseUrl: BASE_URL, now: at, validitySeconds: 7200, publicationId: id, entriesLength }) as const;
    const streamed = await publishCrlScope(context(await request(hours(3.6)), hours(3.6), 'stream'), { kind: 'complete', partition: null });
    const summed = await publishCrlScope(context(await request(hours(3.7)), hours(3.7), 'snapshot-sum'), { kind: 'complete', partition: null });
    expect(streamed?.entryCount).toBe(summed?.entryCount);
    expect(streamed?.byteSize).toBe(summed?.byteSize);

    // A writer that broke the contract: listed, no entry DER (the publisher backfills before it gets here).
    await pool.query(`UPDATE certificate SET crl_entry_der = NULL WHERE id = $1`, [leaves.revoked.id]);
    for (const mode of ['stream', 'snapshot-sum'] as const) {
      const at = hours(mode === 'stream' ? 3.8 : 3.9);
      await expect(publishCrlScope(context(await request(at), at, mode), { kind: 'complete', partition: null })).rejects.toThrow(
        /publishing the complete CRL/,
      );
    }
    expect(await backfillCrlEntries(pool, caId)).toBe(1);
  });

  it('a retried publication publishes nothing twice', async () => {
    const { rows } = await pool.query(`SELECT id FROM crl_publication WHERE ca_id = $1 AND kind = 'partition' ORDER BY slot_at DESC LIMIT 1`, [caId]);
    await pool.query(`UPDATE crl_publication SET state = 'failing', published_at = NULL WHERE id = $1`, [rows[0].id]);
    const before = await pool.query(`SELECT count(*)::int AS n FROM published_crl`);
    const again = await runPublication(deps(), rows[0].id);
    expect(again.crls.every((c) => c.alreadyPublished)).toBe(true);
    expect((await pool.query(`SELECT count(*)::int AS n FROM published_crl`)).rows[0].n).toBe(before.rows[0].n);
  });

  it('never lets CRL numbers go backwards, also with two publishers at once', async () => {
    const second = new Pool({ connectionString: db.url, max: 6 });
    try {
      const ids: string[] = [];
      for (const [kind, at] of [
        ['complete', hours(4)],
        ['complete', hours(4.01)],
        ['partition', hours(4.02)],
        ['delta', hours(4.03)],
      ] as const) {
        const { rows } = await pool.query(`INSERT INTO crl_publication (ca_id, kind, slot_at, trigger) VALUES ($1, $2, $3, 'manual') RETURNING id`, [
          caId,
          kind,
          at,
        ]);
        ids.push(rows[0].id);
      }
      clock = hours(4);
      await Promise.all(ids.map((id, i) => runPublication({ ...deps(), pool: i % 2 === 0 ? pool : second }, id)));
    } finally {
      await second.end();
    }
    const { rows } = await pool.query(
      `SELECT crl_number, this_update, source_snapshot::text AS snap, created_at FROM published_crl WHERE ca_id = $1 ORDER BY crl_number`,
      [caId],
    );
    const numbers = rows.map((r) => BigInt(r.crl_number));
    expect(new Set(numbers.map(String)).size).toBe(numbers.length);
    const { rows: last } = await pool.query(`SELECT last_crl_number FROM certificate_authority WHERE id = $1`, [caId]);
    expect(BigInt(last[0].last_crl_number)).toBe(numbers[numbers.length - 1]);
    // A higher number was built from a later (or equal) snapshot: its xmin never goes back.
    const xmins = rows.map((r) => BigInt(String(r.snap).split(':')[0]));
    for (let i = 1; i < xmins.length; i++) expect(xmins[i] >= xmins[i - 1]).toBe(true);
  });

  it('the tick requests each slot once, however many workers tick', async () => {
    // graphile-worker's schema is created on first use
    const now = new Date('2026-12-05T12:30:00Z');
    const results = await Promise.all([crlTick(pool, now), crlTick(pool, now), crlTick(pool, now)]);
    const enqueued = results.flatMap((r) => r.enqueued);
    expect(enqueued.map((e) => e.kind).sort()).toEqual(['complete', 'delta', 'partition']);
    expect(enqueued.find((e) => e.kind === 'delta')?.slotAt).toEqual(new Date('2026-12-05T12:00:00Z'));
    // The newest CRLs are a week old: late; their kinds have an open publication now, so no recovery yet.
    expect(results[0].late.length).toBeGreaterThan(0);
    const recoveries = results.flatMap((r) => r.recoveries);
    const jobs = await pool.query(`SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier = 'crl-publish'`);
    expect(jobs.rows[0].n).toBe(3 + recoveries.length);
    expect((await crlTick(pool, new Date(now.getTime() + 60_000))).enqueued).toEqual([]);

    // Watchdog: the slots' jobs "ran" but the CRLs are still a week old (e.g. the publication kept failing
    // and was given up): the next tick alerts and requests one recovery per kind.
    await pool.query(`UPDATE crl_publication SET state = 'published', published_at = now() WHERE state <> 'published'`);
    const later = await crlTick(pool, new Date(now.getTime() + 120_000));
    expect(later.enqueued).toEqual([]);
    expect(later.late.map((l) => `${l.kind}:${l.partition ?? '-'}`).sort()).toEqual(
      ['complete:-', 'delta:-', 'delta:0', 'delta:1', 'delta:2', 'delta:3', 'partition:0', 'partition:1', 'partition:2', 'partition:3'],
    );
    expect(later.recoveries.map((r) => r.kind).sort()).toEqual(['complete', 'delta', 'partition']);
    expect((await crlTick(pool, new Date(now.getTime() + 180_000))).recoveries).toEqual([]); // one at a time
  });
});
