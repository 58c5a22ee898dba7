import { applicationBody, CaApiHarness, startCaApi } from '../../../test/support/ca-api-harness';
import { TestCard, validNationalId } from '../../../test/support/card';

/**
 * Suspension, resumption and revocation through the API: DOMAIN.md's
 * delegation table, the online user-code channel, court orders,
 * household-registration events, concurrency and the audit trail.
 */
describe('card lifecycle over HTTP', () => {
  let api: CaApiHarness;
  let sequence = 0;
  beforeAll(async () => {
    api = await startCaApi();
  }, 60_000);
  afterAll(() => api?.close());

  /** Issues a card to a fresh holder; returns its number and the holder's national ID. */
  async function issueCard(): Promise<{ cardNumber: string; nationalId: string }> {
    sequence++;
    const cardNumber = `TP04${String(sequence).padStart(11, '0')}`;
    const nationalId = validNationalId(sequence);
    const card = await TestCard.create(cardNumber);
    const response = await api.call('POST', '/v1/applications', {
      token: api.tokens.clerk,
      body: applicationBody(card, { signature: await card.csr('signature'), encryption: await card.csr('encryption') }, {
        applicant: { name: `持卡人${sequence}`, nationalId, dateOfBirth: '1985-02-03', mobile: '0933000000', email: `h${sequence}@example.tw` },
      }),
    });
    expect(response.status).toBe(201);
    return { cardNumber, nationalId };
  }

  async function statuses(cardNumber: string): Promise<string[]> {
    const { rows } = await api.pool.query(
      `SELECT c.status FROM certificate c JOIN card k ON k.id = c.card_id WHERE k.card_number = $1 ORDER BY c.kind`,
      [cardNumber],
    );
    return rows.map((row) => row.status);
  }

  const delegate = (holderCardPresented: boolean) => ({
    delegation: { delegateName: '陳代理', delegateNationalId: 'B123456780', formReference: 'DF-1', holderCardPresented },
  });

  // DOMAIN.md's table, rows suspension / resumption / revocation.
  it.each([
    ['suspension', 'holder in person', {}, 200],
    ['suspension', 'a delegate without the card', delegate(false), 200],
    ['suspension', 'a delegate with the card', delegate(true), 200],
  ])('%s by %s is allowed', async (operation, _who, body, status) => {
    const { cardNumber } = await issueCard();
    const response = await api.call('POST', `/v1/cards/${cardNumber}/${operation}`, { token: api.tokens.clerk, body });
    expect(response.status).toBe(status);
    expect(await statuses(cardNumber)).toEqual(['suspended', 'suspended']);
    const resumed = await api.call('POST', `/v1/cards/${cardNumber}/resumption`, { token: api.tokens.clerk, body });
    expect(resumed.status).toBe(200);
    expect(await statuses(cardNumber)).toEqual(['valid', 'valid']);
  });

  it('records the delegation (delegate, form, card presented) and the audit record names the delegate', async () => {
    const { cardNumber } = await issueCard();
    await api.call('POST', `/v1/cards/${cardNumber}/suspension`, { token: api.tokens.clerk, body: delegate(false) });
    const { rows } = await api.pool.query(`SELECT operation, delegate_name, form_reference, holder_card_presented, office_id FROM delegation ORDER BY created_at DESC LIMIT 1`);
    expect(rows[0]).toMatchObject({ operation: 'suspend', delegate_name: '陳代理', form_reference: 'DF-1', holder_card_presented: false, office_id: api.officeIds.main });
    const audit = await api.pool.query(`SELECT delegate, office_id FROM audit_log WHERE operation = 'certificate.suspend' AND subject_id = $1`, [cardNumber]);
    expect(audit.rows[0].delegate).toMatchObject({ name: '陳代理', formReference: 'DF-1', holderCardPresented: false });
    expect(JSON.stringify(audit.rows)).not.toContain('B123456780');
  });

  it.each([
    ['a delegate with the card', delegate(true), 'delegate-not-permitted'],
    ['a delegate without the card', delegate(false), 'delegate-not-permitted'],
  ])('revocation by %s is refused (in person only)', async (_who, body, code) => {
    const { cardNumber } = await issueCard();
    const response = await api.call('POST', `/v1/cards/${cardNumber}/revocation`, { token: api.tokens.clerk, body: { ...body, ground: 'lost-card' } });
    expect(response.status).toBe(403);
    expect(response.body.type).toBe(`urn:moica-ca:problem:${code}`);
    expect(await statuses(cardNumber)).toEqual(['valid', 'valid']);
  });

  it('revokes in person with the mapped reason; revoked is final', async () => {
    const { cardNumber } = await issueCard();
    const response = await api.call('POST', `/v1/cards/${cardNumber}/revocation`, {
      token: api.tokens.clerk,
      body: { ground: 'lost-card', invalidityDate: '2026-03-01T00:00:00Z' },
    });
    expect(response.status).toBe(200);
    const { rows } = await api.pool.query(
      `SELECT c.status, c.revocation_reason, c.invalidity_date, c.crl_entry_der IS NOT NULL AS has_entry FROM certificate c JOIN card k ON k.id = c.card_id WHERE k.card_number = $1`,
      [cardNumber],
    );
    expect(rows).toEqual([
      { status: 'revoked', revocation_reason: 1, invalidity_date: new Date('2026-03-01T00:00:00Z'), has_entry: true },
      { status: 'revoked', revocation_reason: 1, invalidity_date: new Date('2026-03-01T00:00:00Z'), has_entry: true },
    ]);
    for (const operation of ['suspension', 'resumption', 'revocation']) {
      const again = await api.call('POST', `/v1/cards/${cardNumber}/${operation}`, { token: api.tokens.clerk, body: operation === 'revocation' ? { ground: 'no-longer-needed' } : {} });
      expect(again.status).toBe(409);
      expect(again.body.type).toBe('urn:moica-ca:problem:certificate-revoked');
    }
  });

  it('queues the holder notices of issuance and suspension in the same transactions (issue 8)', async () => {
    const { cardNumber } = await issueCard();
    await api.call('POST', `/v1/cards/${cardNumber}/suspension`, { token: api.tokens.clerk, body: {} });
    const { rows } = await api.pool.query(
      `SELECT n.kind, n.channel FROM notice n JOIN holder h ON h.id = n.holder_id JOIN card k ON k.holder_id = h.id
        WHERE k.card_number = $1 ORDER BY n.id`,
      [cardNumber],
    );
    expect(rows).toEqual(
      expect.arrayContaining([
        { kind: 'certificate-issued', channel: 'email' },
        { kind: 'certificate-suspended', channel: 'email' },
        { kind: 'certificate-suspended', channel: 'sms' },
      ]),
    );
    const jobs = await api.pool.query(`SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier LIKE 'notice-%'`);
    expect(jobs.rows[0].n).toBeGreaterThanOrEqual(3);
    // Operators see the queue, without addresses; clerks may not.
    const queue = await api.call('GET', '/v1/operator/jobs', { token: api.tokens.operator });
    expect(queue.status).toBe(200);
    expect(queue.body.pendingJobs.length).toBeGreaterThanOrEqual(3);
    expect(JSON.stringify(queue.body)).not.toMatch(/@example\.tw|0933000000/);
    const metrics = await api.call('GET', '/v1/operator/jobs/metrics', { token: api.tokens.auditor });
    expect(metrics.body).toMatch(/moica_worker_jobs/);
    expect((await api.call('GET', '/v1/operator/jobs', { token: api.tokens.clerk })).status).toBe(403);
  });

  it('refuses to resume a certificate that is not suspended, and an unknown card', async () => {
    const { cardNumber } = await issueCard();
    const response = await api.call('POST', `/v1/cards/${cardNumber}/resumption`, { token: api.tokens.clerk, body: {} });
    expect(response.status).toBe(409);
    expect(response.body.type).toBe('urn:moica-ca:problem:certificate-not-suspended');
    const unknown = await api.call('POST', `/v1/cards/ZZ9999999999/suspension`, { token: api.tokens.clerk, body: {} });
    expect(unknown.status).toBe(404);
  });

  it('suspends and resumes online with the user code; locks out after 5 wrong codes for 15 minutes', async () => {
    const { cardNumber, nationalId } = await issueCard();
    const online = (operation: string, userCode: string) =>
      api.call('POST', `/v1/online/${operation}`, { body: { nationalId, cardNumber, userCode } });
    expect((await online('suspension', 'Ab%123@x')).status).toBe(200);
    expect(await statuses(cardNumber)).toEqual(['suspended', 'suspended']);
    for (let i = 1; i <= 4; i++) {
      const wrong = await online('resumption', 'wrong-code');
      expect(wrong.status).toBe(403);
      expect(wrong.body).toMatchObject({ type: 'urn:moica-ca:problem:user-code-incorrect', attemptsRemaining: 5 - i });
    }
    const fifth = await online('resumption', 'wrong-code');
    expect(fifth.status).toBe(423);
    expect(fifth.headers.get('retry-after')).toBe('900');
    const evenRight = await online('resumption', 'Ab%123@x');
    expect(evenRight.status).toBe(423);
    // The lock-out is the card's (issue 5: per card).
    const lock = await api.pool.query(`SELECT user_code_locked_until FROM card WHERE card_number = $1`, [cardNumber]);
    expect(lock.rows[0].user_code_locked_until.getTime()).toBe(api.clock.now().getTime() + 15 * 60_000);
    api.clock.advance(15 * 60_000 + 1000);
    expect((await online('resumption', 'Ab%123@x')).status).toBe(200);
    expect(await statuses(cardNumber)).toEqual(['valid', 'valid']);
    const audit = await api.pool.query(`SELECT operation FROM audit_log WHERE operation LIKE 'user-code.%' ORDER BY id`);
    expect(audit.rows.map((r) => r.operation)).toEqual(['user-code.failed', 'user-code.failed', 'user-code.failed', 'user-code.failed', 'user-code.locked']);
  });

  it("refuses online with another holder's card, and the same answer for an unknown ID as for a wrong code", async () => {
    const a = await issueCard();
    const b = await issueCard();
    const foreign = await api.call('POST', '/v1/online/suspension', { body: { nationalId: a.nationalId, cardNumber: b.cardNumber, userCode: 'Ab%123@x' } });
    expect(foreign.status).toBe(403);
    expect(foreign.body.type).toBe('urn:moica-ca:problem:card-not-holders');
    const unknown = await api.call('POST', '/v1/online/suspension', { body: { nationalId: 'Z199999999', cardNumber: b.cardNumber, userCode: 'Ab%123@x' } });
    expect(unknown.status).toBe(403);
    expect(unknown.body.type).toBe('urn:moica-ca:problem:user-code-incorrect');
  });

  it('a court-ordered suspension is lifted only by a court order', async () => {
    const { cardNumber, nationalId } = await issueCard();
    const order = { cardNumber, orderReference: '115年度聲字第1號', authority: '臺灣臺北地方法院' };
    expect((await api.call('POST', '/v1/court-orders/suspensions', { token: api.tokens.clerk, body: order })).status).toBe(403);
    expect((await api.call('POST', '/v1/court-orders/suspensions', { token: api.tokens.operator, body: order })).status).toBe(200);
    const byHolder = await api.call('POST', '/v1/online/resumption', { body: { nationalId, cardNumber, userCode: 'Ab%123@x' } });
    expect(byHolder.status).toBe(403);
    expect(byHolder.body.type).toBe('urn:moica-ca:problem:suspension-ordered-by-court');
    expect((await api.call('POST', '/v1/court-orders/resumptions', { token: api.tokens.operator, body: order })).status).toBe(200);
    expect(await statuses(cardNumber)).toEqual(['valid', 'valid']);
  });

  it.each([
    ['death', 5],
    ['name-change', 3],
    ['loss-of-nationality', 9],
  ])('a household-registration event (%s) revokes the person\'s live certificates with reason %i', async (kind, reasonCode) => {
    const { cardNumber, nationalId } = await issueCard();
    const response = await api.call('POST', '/v1/household-events', { token: api.tokens.operator, body: { kind, nationalId, eventReference: `HR-${kind}` } });
    expect(response.status).toBe(200);
    expect(response.body.revoked.map((r: { cardNumber: string }) => r.cardNumber)).toEqual([cardNumber]);
    const { rows } = await api.pool.query(`SELECT DISTINCT c.revocation_reason FROM certificate c JOIN card k ON k.id = c.card_id WHERE k.card_number = $1`, [cardNumber]);
    expect(rows).toEqual([{ revocation_reason: reasonCode }]);
  });

  it('50 parallel suspend/resume/revoke calls on one card end consistent, with a matching audit trail', async () => {
    const { cardNumber } = await issueCard();
    const operations = Array.from({ length: 50 }, (_, i) => (i === 37 ? 'revocation' : i % 2 ? 'suspension' : 'resumption'));
    const responses = await Promise.all(
      operations.map((operation) =>
        api.call('POST', `/v1/cards/${cardNumber}/${operation}`, { token: api.tokens.clerk, body: operation === 'revocation' ? { ground: 'key-compromise' } : {} }),
      ),
    );
    expect(responses.every((r) => [200, 409].includes(r.status))).toBe(true);
    const succeeded = responses.filter((r) => r.status === 200).length;
    const audit = await api.pool.query(`SELECT operation, after FROM audit_log WHERE subject_id = $1 AND operation LIKE 'certificate.%' ORDER BY id`, [cardNumber]);
    expect(audit.rows).toHaveLength(succeeded);
    // Replaying the audit trail gives the final state, and every step was allowed from the one before.
    let state = 'valid';
    for (const row of audit.rows) {
      const kind = row.operation.slice('certificate.'.length);
      if (kind === 'suspend') expect(state).toBe('valid');
      if (kind === 'resume') expect(state).toBe('suspended');
      expect(state).not.toBe('revoked');
      state = row.after.status;
    }
    expect(await statuses(cardNumber)).toEqual([state, state]);
    expect(responses[37].status).toBe(200);
    expect(state).toBe('revoked');
    const events = await api.pool.query(
      `SELECT count(*)::int AS n FROM certificate_status_event e JOIN certificate c ON c.id = e.certificate_id JOIN card k ON k.id = c.card_id WHERE k.card_number = $1 AND e.from_status <> 'pending'`,
      [cardNumber],
    );
    expect(events.rows[0].n).toBe(succeeded * 2);
  });

  it('public look-up shows status and validity, and the certificate only with consent; no personal data', async () => {
    const { cardNumber, nationalId } = await issueCard();
    await api.call('POST', `/v1/cards/${cardNumber}/suspension`, { token: api.tokens.clerk, body: {} });
    const byCard = await api.call('GET', `/v1/public/cards/${cardNumber}`);
    expect(byCard.status).toBe(200);
    expect(byCard.body.map((c: { status: string }) => c.status)).toEqual(['suspended', 'suspended']);
    expect(byCard.body[0].reason).toBe('certificateHold');
    const bySerial = await api.call('GET', `/v1/public/certificates/${byCard.body[0].serial}`);
    expect(bySerial.body).toMatchObject({ serial: byCard.body[0].serial, status: 'suspended' });
    expect(JSON.stringify(byCard.body)).not.toContain(nationalId);
    await api.pool.query(`UPDATE holder SET publication_consent = false`);
    const hidden = await api.call('GET', `/v1/public/certificates/${byCard.body[0].serial}`);
    expect(hidden.body.pem).toBeUndefined();
    expect((await api.call('GET', '/v1/public/certificates/not-hex')).status).toBe(400);
  });

  it('auditors search the log and verify the chain; clerks may not', async () => {
    const search = await api.call('GET', '/v1/audit?operation=certificate.*&limit=5', { token: api.tokens.auditor });
    expect(search.status).toBe(200);
    expect(search.body.length).toBeGreaterThan(0);
    expect(search.body.every((r: { operation: string }) => r.operation.startsWith('certificate.'))).toBe(true);
    const verdict = await api.call('GET', '/v1/audit/verification', { token: api.tokens.auditor });
    expect(verdict.body).toMatchObject({ intact: true });
    expect((await api.call('GET', '/v1/audit', { token: api.tokens.clerk })).status).toBe(403);
  });
});
