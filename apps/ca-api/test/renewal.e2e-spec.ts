import { applicationBody, CaApiHarness, startCaApi } from '../../../test/support/ca-api-harness';
import { TestCard, validNationalId } from '../../../test/support/card';

/** Renewal (展期) at the counter and online, at the window's edges, with a controlled clock. */
describe('renewal over HTTP', () => {
  let api: CaApiHarness;
  let sequence = 0;
  beforeAll(async () => {
    api = await startCaApi({ now: '2026-03-02T02:00:00Z' });
  }, 60_000);
  afterAll(() => api?.close());

  async function issue(): Promise<{ card: TestCard; holderNumber: string }> {
    sequence++;
    api.clock.set('2026-03-02T02:00:00Z');
    const card = await TestCard.create(`TP05${String(sequence).padStart(11, '0')}`);
    const nationalId = validNationalId(500 + sequence);
    const response = await api.call('POST', '/v1/applications', {
      token: api.tokens.clerk,
      body: applicationBody(card, { signature: await card.csr('signature'), encryption: await card.csr('encryption') }, {
        applicant: { name: '林續期', nationalId, dateOfBirth: '1975-04-04', mobile: '0955000000', email: 'r@example.tw' },
      }),
    });
    expect(response.status).toBe(201);
    return { card, holderNumber: response.body.holderNumber };
  }

  const csrsOf = async (card: TestCard) => ({ signature: await card.csr('signature'), encryption: await card.csr('encryption') });

  it('refuses before the window (60 days before the 5-year expiry) and renews inside it, to the 8-year cap', async () => {
    const { card } = await issue();
    api.clock.set('2030-12-31T00:00:00Z'); // 61 days before 2031-03-02
    const early = await api.call('POST', `/v1/cards/${card.cardNumber}/renewal`, { token: api.tokens.clerk, body: { csrs: await csrsOf(card) } });
    expect(early.status).toBe(409);
    expect(early.body.type).toBe('urn:moica-ca:problem:renewal-window-not-open');

    api.clock.set('2031-01-15T00:00:00Z');
    const renewed = await api.call('POST', `/v1/cards/${card.cardNumber}/renewal`, { token: api.tokens.clerk, body: { csrs: await csrsOf(card) } });
    expect(renewed.status).toBe(201);
    expect(renewed.body.certificates.map((c: { notAfter: string }) => c.notAfter)).toEqual(['2034-03-02T01:59:59.000Z', '2034-03-02T01:59:59.000Z']);
    const { rows } = await api.pool.query(
      `SELECT c.status, c.revocation_reason, c.renewed_from_id IS NOT NULL AS renewal FROM certificate c JOIN card k ON k.id = c.card_id
        WHERE k.card_number = $1 ORDER BY c.created_at, c.kind`,
      [card.cardNumber],
    );
    expect(rows).toEqual([
      { status: 'revoked', revocation_reason: 4, renewal: false },
      { status: 'revoked', revocation_reason: 4, renewal: false },
      { status: 'valid', revocation_reason: null, renewal: true },
      { status: 'valid', revocation_reason: null, renewal: true },
    ]);
    const again = await api.call('POST', `/v1/cards/${card.cardNumber}/renewal`, { token: api.tokens.clerk, body: { csrs: await csrsOf(card) } });
    expect(again.status).toBe(409);
    expect(again.body.type).toBe('urn:moica-ca:problem:already-renewed');
  });

  it('refuses a request with another key, and a delegate without the card', async () => {
    const { card } = await issue();
    api.clock.set('2031-02-01T00:00:00Z');
    const other = await TestCard.create('XX0000000001');
    const wrongKey = await api.call('POST', `/v1/cards/${card.cardNumber}/renewal`, {
      token: api.tokens.clerk,
      body: { csrs: { signature: await other.csr('signature'), encryption: await card.csr('encryption') } },
    });
    expect(wrongKey.status).toBe(422);
    expect(wrongKey.body.type).toBe('urn:moica-ca:problem:renewal-key-mismatch');
    const delegate = await api.call('POST', `/v1/cards/${card.cardNumber}/renewal`, {
      token: api.tokens.clerk,
      body: { csrs: await csrsOf(card), delegation: { delegateName: '代理人', delegateNationalId: 'B123456780', formReference: 'DF-9', holderCardPresented: false } },
    });
    expect(delegate.status).toBe(403);
    expect(delegate.body.type).toBe('urn:moica-ca:problem:holder-card-required');
  });

  it('renews online with a card-signed challenge; a challenge works once', async () => {
    const { card } = await issue();
    api.clock.set('2032-06-01T00:00:00Z'); // expired (2031-03-02) but within 3 years after
    const challenge = await api.call('POST', '/v1/online/challenges', { body: { cardNumber: card.cardNumber, purpose: 'renewal' } });
    expect(challenge.status).toBe(201);
    const signature = Buffer.from(await card.signWithSignatureKey(Buffer.from(challenge.body.challenge, 'base64'))).toString('base64');
    const body = { cardSignature: { challengeId: challenge.body.challengeId, signature }, csrs: await csrsOf(card) };
    const renewed = await api.call('POST', '/v1/online/renewal', { body });
    expect(renewed.status).toBe(201);
    expect(renewed.body.certificates[0].notBefore).toBe('2032-06-01T00:00:00.000Z');
    const replay = await api.call('POST', '/v1/online/renewal', { body });
    expect(replay.status).toBe(403);
    expect(replay.body.type).toBe('urn:moica-ca:problem:challenge-invalid');
  });

  it('signs once for one challenge: of two concurrent online renewals with it, the other is refused before recording anything', async () => {
    const { card } = await issue();
    api.clock.set('2032-06-01T00:00:00Z');
    const challenge = await api.call('POST', '/v1/online/challenges', { body: { cardNumber: card.cardNumber, purpose: 'renewal' } });
    const signature = Buffer.from(await card.signWithSignatureKey(Buffer.from(challenge.body.challenge, 'base64'))).toString('base64');
    const body = { cardSignature: { challengeId: challenge.body.challengeId, signature }, csrs: await csrsOf(card) };
    // Two Idempotency-Keys: the challenge is reserved for one before it records and signs.
    const responses = await Promise.all([api.call('POST', '/v1/online/renewal', { body }), api.call('POST', '/v1/online/renewal', { body })]);
    expect(responses.map((r) => r.status).sort()).toEqual([201, 403]);
    expect(responses.find((r) => r.status === 403)!.body.type).toBe('urn:moica-ca:problem:challenge-invalid');
    const signed = await api.pool.query(
      `SELECT status FROM certificate WHERE renewed_from_id IN (SELECT c.id FROM certificate c JOIN card k ON k.id = c.card_id WHERE k.card_number = $1)`,
      [card.cardNumber],
    );
    expect(signed.rows.map((row) => row.status)).toEqual(['valid', 'valid']);
  });

  it('refuses an online signature by another key', async () => {
    const { card } = await issue();
    api.clock.set('2031-02-01T00:00:00Z');
    const other = await TestCard.create('XX0000000002');
    const challenge = await api.call('POST', '/v1/online/challenges', { body: { cardNumber: card.cardNumber, purpose: 'renewal' } });
    const signature = Buffer.from(await other.signWithSignatureKey(Buffer.from(challenge.body.challenge, 'base64'))).toString('base64');
    const response = await api.call('POST', '/v1/online/renewal', { body: { cardSignature: { challengeId: challenge.body.challengeId, signature }, csrs: await csrsOf(card) } });
    expect(response.status).toBe(403);
    expect(response.body.type).toBe('urn:moica-ca:problem:card-signature-invalid');
  });

  it('refuses after the window closed (3 years after the 5-year expiry)', async () => {
    const { card } = await issue();
    api.clock.set('2034-03-03T00:00:00Z');
    const late = await api.call('POST', `/v1/cards/${card.cardNumber}/renewal`, { token: api.tokens.clerk, body: { csrs: await csrsOf(card) } });
    expect(late.status).toBe(409);
    expect(late.body.type).toBe('urn:moica-ca:problem:renewal-window-closed');
  });
});
