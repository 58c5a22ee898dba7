import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applicationBody, CaApiHarness, startCaApi } from '../../../test/support/ca-api-harness';
import { TestCard, validNationalId } from '../../../test/support/card';
import { hasTool } from '../../../test/support/system-tool';

describe('POST /v1/applications (real PostgreSQL, real signatures)', () => {
  let api: CaApiHarness;
  beforeAll(async () => {
    api = await startCaApi();
  }, 60_000);
  afterAll(() => api?.close());

  async function cardWithCsrs(cardNumber: string) {
    const card = await TestCard.create(cardNumber);
    return { card, csrs: { signature: await card.csr('signature'), encryption: await card.csr('encryption') } };
  }

  async function count(table: string): Promise<number> {
    const { rows } = await api.pool.query(`SELECT count(*)::int AS n FROM ${table}`);
    return rows[0].n;
  }

  it('issues both certificates, returns the chain, and writes one audit record', async () => {
    const { card, csrs } = await cardWithCsrs('TP0300000000001');
    const auditBefore = await count('audit_log');
    const response = await api.call('POST', '/v1/applications', { token: api.tokens.clerk, body: applicationBody(card, csrs) });
    expect(response.status).toBe(201);
    expect(response.body.holderNumber).toMatch(/^\d{16}$/);
    expect(response.body.certificates.map((c: { kind: string }) => c.kind)).toEqual(['signature', 'encryption']);
    expect(response.body.chain).toHaveLength(2);
    expect(await count('audit_log')).toBe(auditBefore + 1);
    const { rows } = await api.pool.query(`SELECT status, national_id_last4 FROM certificate c JOIN card k ON k.id = c.card_id JOIN holder h ON h.id = k.holder_id WHERE k.card_number = $1`, ['TP0300000000001']);
    expect(rows.map((r) => r.status)).toEqual(['valid', 'valid']);
    expect(JSON.stringify(response.body)).not.toContain('A123456789');

    if (hasTool('openssl', ['version'])) {
      const dir = mkdtempSync(join(tmpdir(), 'moica-app-'));
      writeFileSync(join(dir, 'chain.pem'), response.body.chain.join(''));
      writeFileSync(join(dir, 'root.pem'), response.body.chain[1]);
      writeFileSync(join(dir, 'issuing.pem'), response.body.chain[0]);
      for (const [i, certificate] of response.body.certificates.entries()) {
        writeFileSync(join(dir, `leaf${i}.pem`), certificate.pem);
        const verified = execFileSync('openssl', ['verify', '-CAfile', join(dir, 'root.pem'), '-untrusted', join(dir, 'issuing.pem'), join(dir, `leaf${i}.pem`)], { encoding: 'utf8' });
        expect(verified).toMatch(/OK/);
      }
      const text = execFileSync('openssl', ['x509', '-in', join(dir, 'leaf0.pem'), '-noout', '-text'], { encoding: 'utf8' });
      expect(text).toMatch(/Subject: C\s*=\s*TW, CN\s*=\s*\\?.*serialNumber\s*=\s*\d{16}/);
      expect(text).toMatch(/2\.16\.886\.101\.0\.3\.3/);
      expect(text).not.toMatch(/A123456789|123456789/);
    }
  });

  it('replays the first answer for a retry with the same Idempotency-Key and refuses the key with another body', async () => {
    const { card, csrs } = await cardWithCsrs('TP0300000000002');
    const body = applicationBody(card, csrs, { applicant: { name: '李四', nationalId: 'B120000008', dateOfBirth: '1980-01-01', mobile: '0912000000', email: 'li@example.tw' } });
    const first = await api.call('POST', '/v1/applications', { token: api.tokens.clerk, body, idempotencyKey: 'app-2' });
    expect(first.status).toBe(201);
    const again = await api.call('POST', '/v1/applications', { token: api.tokens.clerk, body, idempotencyKey: 'app-2' });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    const other = await api.call('POST', '/v1/applications', { token: api.tokens.clerk, body: { ...body, cardNumber: 'TP0300000000099' }, idempotencyKey: 'app-2' });
    expect(other.status).toBe(422);
    expect(other.body.type).toBe('urn:moica-ca:problem:idempotency-key-reused');
    const { rows } = await api.pool.query(`SELECT count(*)::int AS n FROM card WHERE card_number IN ('TP0300000000002', 'TP0300000000099')`);
    expect(rows[0].n).toBe(1);
  });

  it.each([
    ['bad ID checksum', { applicant: { name: '王', nationalId: 'A123456788', dateOfBirth: '1990-05-17', mobile: '0912345678', email: 'a@b.tw' } }, 422, 'national-id-checksum-mismatch'],
    ['under 18', { applicant: { name: '王', nationalId: 'A123456789', dateOfBirth: '2010-01-01', mobile: '0912345678', email: 'a@b.tw' } }, 422, 'under-age'],
    ['resident number', { applicant: { name: '王', nationalId: 'A800000014', dateOfBirth: '1990-01-01', mobile: '0912345678', email: 'a@b.tw' } }, 422, 'not-a-national'],
    ['short user code', { userCode: 'ab1' }, 422, 'user-code-too-short'],
    ['fee not paid', { attestations: { idCardCheckedInPerson: true, householdRegistration: true, underGuardianship: false, feePaidNtd: 0 } }, 422, 'fee-not-paid'],
    ['no household registration', { attestations: { idCardCheckedInPerson: true, householdRegistration: false, underGuardianship: false, feePaidNtd: 250 } }, 422, 'no-household-registration'],
    ['not checked in person', { attestations: { idCardCheckedInPerson: false, householdRegistration: true, underGuardianship: false, feePaidNtd: 250 } }, 400, 'invalid-request'],
  ])('refuses %s with its reason code and writes nothing', async (_name, override, status, code) => {
    const { card, csrs } = await cardWithCsrs('TP0300000000100');
    const before = await Promise.all(['holder', 'card', 'certificate', 'audit_log'].map(count));
    const response = await api.call('POST', '/v1/applications', { token: api.tokens.clerk, body: applicationBody(card, csrs, override) });
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(response.body.type).toBe(`urn:moica-ca:problem:${code}`);
    expect(JSON.stringify(response.body)).not.toMatch(/A12345678\d|A800000014/);
    expect(await Promise.all(['holder', 'card', 'certificate', 'audit_log'].map(count))).toEqual(before);
  });

  it('refuses a malformed CSR and a CSR whose signature does not match, writing nothing', async () => {
    const { card, csrs } = await cardWithCsrs('TP0300000000101');
    const before = await count('certificate');
    const malformed = await api.call('POST', '/v1/applications', { token: api.tokens.clerk, body: applicationBody(card, { ...csrs, signature: 'bm90IGEgY3Ny' }) });
    expect(malformed.status).toBe(422);
    expect(malformed.body.type).toBe('urn:moica-ca:problem:csr-malformed');
    const forged = await api.call('POST', '/v1/applications', { token: api.tokens.clerk, body: applicationBody(card, { ...csrs, signature: await card.forgedCsr() }) });
    expect(forged.status).toBe(422);
    expect(forged.body.type).toBe('urn:moica-ca:problem:csr-signature-invalid');
    expect(await count('certificate')).toBe(before);
  });

  it('authenticates and authorises: no token, a forged token, an expired token, a wrong role', async () => {
    const { card, csrs } = await cardWithCsrs('TP0300000000102');
    const body = applicationBody(card, csrs);
    expect((await api.call('POST', '/v1/applications', { body })).status).toBe(401);
    const forged = await api.call('POST', '/v1/applications', { body, token: 'mca_' + 'A'.repeat(43) });
    expect(forged.status).toBe(401);
    expect(forged.body.type).toBe('urn:moica-ca:problem:unauthenticated');
    await api.pool.query(`UPDATE api_credential SET expires_at = $1::timestamptz - interval '1 day' WHERE staff_id = (SELECT id FROM staff_member WHERE name = 'Clerk Chen')`, [api.clock.now()]);
    const expired = await api.call('POST', '/v1/applications', { body, token: api.tokens.otherOfficeClerk });
    expect(expired.status).toBe(401);
    expect(expired.body.detail).toMatch(/expired/);
    const auditor = await api.call('POST', '/v1/applications', { body, token: api.tokens.auditor });
    expect(auditor.status).toBe(403);
    expect(auditor.body.type).toBe('urn:moica-ca:problem:role-not-allowed');
    await api.pool.query(`UPDATE api_credential SET expires_at = NULL`);
  });

  it('requires an Idempotency-Key on a state-changing call', async () => {
    const { card, csrs } = await cardWithCsrs('TP0300000000103');
    const response = await api.call('POST', '/v1/applications', { token: api.tokens.clerk, body: applicationBody(card, csrs), idempotencyKey: null });
    expect(response.status).toBe(400);
    expect(response.body.type).toBe('urn:moica-ca:problem:idempotency-key-required');
  });

  it('supersedes the previous card of the same holder', async () => {
    const first = await cardWithCsrs('TP0300000000200');
    const person = { name: '張三', nationalId: 'C100000003', dateOfBirth: '1970-07-07', mobile: '0922000000', email: 'zhang@example.tw' };
    const ok = await api.call('POST', '/v1/applications', { token: api.tokens.clerk, body: applicationBody(first.card, first.csrs, { applicant: person }) });
    expect(ok.status).toBe(201);
    const second = await cardWithCsrs('TP0300000000201');
    const again = await api.call('POST', '/v1/applications', { token: api.tokens.clerk, body: applicationBody(second.card, second.csrs, { applicant: person }) });
    expect(again.status).toBe(201);
    expect(again.body.holderNumber).toBe(ok.body.holderNumber);
    const { rows } = await api.pool.query(
      `SELECT status, revocation_reason FROM certificate c JOIN card k ON k.id = c.card_id WHERE k.card_number = 'TP0300000000200'`,
    );
    expect(rows).toEqual([{ status: 'revoked', revocation_reason: 4 }, { status: 'revoked', revocation_reason: 4 }]);
  });

  it('answers 409, never 500, when concurrent applications race for one card number or one new person', async () => {
    // Both pass the checks made before signing; the database's unique keys decide at commit.
    const [a, b] = [await cardWithCsrs('TP0300000000300'), await cardWithCsrs('TP0300000000300')];
    const sameCard = await Promise.all([
      api.call('POST', '/v1/applications', { token: api.tokens.clerk, body: applicationBody(a.card, a.csrs, { applicant: { ...person(validNationalId(7101)), name: '甲' } }) }),
      api.call('POST', '/v1/applications', { token: api.tokens.clerk, body: applicationBody(b.card, b.csrs, { applicant: { ...person(validNationalId(7102)), name: '乙' } }) }),
    ]);
    expect(sameCard.map((answer) => answer.status).sort()).toEqual([201, 409]);
    expect(sameCard.find((answer) => answer.status === 409)!.body.type).toBe('urn:moica-ca:problem:card-number-in-use');

    const [c, d] = [await cardWithCsrs('TP0300000000301'), await cardWithCsrs('TP0300000000302')];
    const newcomer = person(validNationalId(7103));
    const samePerson = await Promise.all([
      api.call('POST', '/v1/applications', { token: api.tokens.clerk, body: applicationBody(c.card, c.csrs, { applicant: newcomer }) }),
      api.call('POST', '/v1/applications', { token: api.tokens.clerk, body: applicationBody(d.card, d.csrs, { applicant: newcomer }) }),
    ]);
    const statuses = samePerson.map((answer) => answer.status).sort();
    // Serialised, the second supersedes the first card (201, 201); overlapping, the second is refused and may apply again.
    expect([[201, 201], [201, 409]]).toContainEqual(statuses);
    for (const answer of samePerson.filter((x) => x.status === 409)) expect(answer.body.type).toBe('urn:moica-ca:problem:application-conflict');
    const { rows } = await api.pool.query(`SELECT count(*)::int AS n FROM certificate WHERE status = 'pending'`);
    expect(rows[0].n).toBe(0); // what a refused application recorded is abandoned, not left pending
  });

  function person(nationalId: string) {
    return { name: '丙', nationalId, dateOfBirth: '1985-03-03', mobile: '0933000000', email: 'bing@example.tw' };
  }
});
