import { applicationBody, CaApiHarness, startCaApi } from '../../../test/support/ca-api-harness';
import { TestCard, validNationalId } from '../../../test/support/card';
import { startTestSmsGateway, startTestSmtpServer } from '../src/notifications/testing/message-receivers';

/** User-code reset, publication status and contact changes: DOMAIN.md's table rows, through the API. */
describe('holder services over HTTP', () => {
  let api: CaApiHarness;
  let sms: Awaited<ReturnType<typeof startTestSmsGateway>>;
  let smtp: Awaited<ReturnType<typeof startTestSmtpServer>>;
  let sequence = 0;
  beforeAll(async () => {
    sms = await startTestSmsGateway();
    smtp = await startTestSmtpServer();
    api = await startCaApi({
      env: { SMS_GATEWAY_URL: sms.url, SMS_GATEWAY_USERNAME: 'moica', SMS_GATEWAY_PASSWORD: 'secret', SMTP_URL: smtp.url, SMTP_FROM: 'MOICA <noreply@example.tw>' },
    });
  }, 60_000);
  afterAll(async () => {
    await api?.close();
    await sms?.close();
    await smtp?.close();
  });

  async function issueCard(): Promise<{ cardNumber: string; nationalId: string; card: TestCard }> {
    sequence++;
    const cardNumber = `TP07${String(sequence).padStart(11, '0')}`;
    const nationalId = validNationalId(700 + sequence);
    const card = await TestCard.create(cardNumber);
    const response = await api.call('POST', '/v1/applications', {
      token: api.tokens.clerk,
      body: applicationBody(card, { signature: await card.csr('signature'), encryption: await card.csr('encryption') }, {
        applicant: { name: '周服務', nationalId, dateOfBirth: '1990-01-01', mobile: '0911111111', email: 'old@example.tw' },
      }),
    });
    expect(response.status).toBe(201);
    return { cardNumber, nationalId, card };
  }

  const delegate = (holderCardPresented: boolean) => ({ delegateName: '代辦人', delegateNationalId: 'B123456780', formReference: 'DF-7', holderCardPresented });

  it.each([
    ['user-code', { newUserCode: 'New#2026' }],
    ['publication', { consent: false }],
  ])('%s: allowed in person and for a delegate with the card; refused for a delegate without it', async (path, body) => {
    const { cardNumber } = await issueCard();
    expect((await api.call('POST', `/v1/cards/${cardNumber}/${path}`, { token: api.tokens.clerk, body })).status).toBe(200);
    expect((await api.call('POST', `/v1/cards/${cardNumber}/${path}`, { token: api.tokens.clerk, body: { ...body, delegation: delegate(true) } })).status).toBe(200);
    const refused = await api.call('POST', `/v1/cards/${cardNumber}/${path}`, { token: api.tokens.clerk, body: { ...body, delegation: delegate(false) } });
    expect(refused.status).toBe(403);
    expect(refused.body.type).toBe('urn:moica-ca:problem:holder-card-required');
  });

  it('a reset user code works online and the old one no longer does', async () => {
    const { cardNumber, nationalId } = await issueCard();
    await api.call('POST', `/v1/cards/${cardNumber}/user-code`, { token: api.tokens.clerk, body: { newUserCode: 'New#2026' } });
    expect((await api.call('POST', '/v1/online/suspension', { body: { nationalId, cardNumber, userCode: 'Ab%123@x' } })).status).toBe(403);
    expect((await api.call('POST', '/v1/online/suspension', { body: { nationalId, cardNumber, userCode: 'New#2026' } })).status).toBe(200);
  });

  it('refuses a user code that breaks the rules', async () => {
    const { cardNumber } = await issueCard();
    const response = await api.call('POST', `/v1/cards/${cardNumber}/user-code`, { token: api.tokens.clerk, body: { newUserCode: 'has space' } });
    expect(response.status).toBe(422);
    expect(response.body.type).toBe('urn:moica-ca:problem:user-code-contains-space');
  });

  it('resets the user code online with a card-signed challenge', async () => {
    const { cardNumber, nationalId, card } = await issueCard();
    const challenge = await api.call('POST', '/v1/online/challenges', { body: { cardNumber, purpose: 'user-code-reset' } });
    const signature = Buffer.from(await card.signWithSignatureKey(Buffer.from(challenge.body.challenge, 'base64'))).toString('base64');
    const reset = await api.call('POST', '/v1/online/user-code', { body: { cardSignature: { challengeId: challenge.body.challengeId, signature }, newUserCode: 'Online@1' } });
    expect(reset.status).toBe(200);
    expect((await api.call('POST', '/v1/online/suspension', { body: { nationalId, cardNumber, userCode: 'Online@1' } })).status).toBe(200);
  });

  it('changes the mobile number after the SMS code, once; a wrong code is refused', async () => {
    const { cardNumber } = await issueCard();
    const started = await api.call('POST', `/v1/cards/${cardNumber}/contact-changes`, { token: api.tokens.clerk, body: { kind: 'mobile', newValue: '0987654321' } });
    expect(started.status).toBe(202);
    expect(started.body.sentTo).toBe('0987***321');
    const message = sms.received.find((m) => m.dstaddr === '0987654321');
    expect(message).toBeDefined();
    const code = /(\d{6})/.exec(message!.smbody)![1];
    const wrong = await api.call('POST', `/v1/cards/${cardNumber}/contact-changes/confirmation`, {
      token: api.tokens.clerk,
      body: { verificationId: started.body.verificationId, code: code === '000000' ? '111111' : '000000' },
    });
    expect(wrong.status).toBe(422);
    expect(wrong.body.type).toBe('urn:moica-ca:problem:verification-code-incorrect');
    const confirmed = await api.call('POST', `/v1/cards/${cardNumber}/contact-changes/confirmation`, { token: api.tokens.clerk, body: { verificationId: started.body.verificationId, code } });
    expect(confirmed.status).toBe(200);
    const { rows } = await api.pool.query(`SELECT h.mobile FROM holder h JOIN card k ON k.holder_id = h.id WHERE k.card_number = $1`, [cardNumber]);
    expect(rows[0].mobile).toBe('0987654321');
    const again = await api.call('POST', `/v1/cards/${cardNumber}/contact-changes/confirmation`, { token: api.tokens.clerk, body: { verificationId: started.body.verificationId, code } });
    expect(again.status).toBe(422);
  });

  it('changes the contact e-mail after the e-mail code, for a delegate with the card', async () => {
    const { cardNumber } = await issueCard();
    const started = await api.call('POST', `/v1/cards/${cardNumber}/contact-changes`, {
      token: api.tokens.clerk,
      body: { kind: 'email', newValue: 'new@example.tw', delegation: delegate(true) },
    });
    expect(started.status).toBe(202);
    const message = smtp.received.find((m) => JSON.stringify(m).includes('new@example.tw'));
    expect(message).toBeDefined();
    const code = /code is (\d{6})/.exec(bodyText(message!.raw))![1];
    const confirmed = await api.call('POST', `/v1/cards/${cardNumber}/contact-changes/confirmation`, {
      token: api.tokens.clerk,
      body: { verificationId: started.body.verificationId, code, delegation: delegate(true) },
    });
    expect(confirmed.status).toBe(200);
    const { rows } = await api.pool.query(`SELECT h.contact_email FROM holder h JOIN card k ON k.holder_id = h.id WHERE k.card_number = $1`, [cardNumber]);
    expect(rows[0].contact_email).toBe('new@example.tw');
    const delegations = await api.pool.query(`SELECT operation FROM delegation WHERE form_reference = 'DF-7' AND operation = 'change-contact-email'`);
    expect(delegations.rows.length).toBeGreaterThanOrEqual(2);
  });
});

describe('adding the e-mail address to the certificate online', () => {
  it('confirms the address by code, issues a signature certificate with the rfc822Name, supersedes the old one', async () => {
    const sms = await startTestSmsGateway();
    const smtp = await startTestSmtpServer();
    const api = await startCaApi({
      env: { SMS_GATEWAY_URL: sms.url, SMS_GATEWAY_USERNAME: 'u', SMS_GATEWAY_PASSWORD: 'p', SMTP_URL: smtp.url, SMTP_FROM: 'MOICA <noreply@example.tw>' },
    });
    try {
      const card = await TestCard.create('TP0800000000001');
      const issued = await api.call('POST', '/v1/applications', {
        token: api.tokens.clerk,
        body: applicationBody(card, { signature: await card.csr('signature'), encryption: await card.csr('encryption') }),
      });
      expect(issued.status).toBe(201);
      const challenge = await api.call('POST', '/v1/online/challenges', { body: { cardNumber: card.cardNumber, purpose: 'add-email-to-certificate' } });
      const signature = Buffer.from(await card.signWithSignatureKey(Buffer.from(challenge.body.challenge, 'base64'))).toString('base64');
      const started = await api.call('POST', '/v1/online/email-in-certificate', {
        body: { cardSignature: { challengeId: challenge.body.challengeId, signature }, email: 'me@example.tw' },
      });
      expect(started.status).toBe(202);
      const audited = await api.pool.query(`SELECT operation, subject_kind, after::text FROM audit_log WHERE operation = 'holder.add-email-to-certificate'`);
      expect(audited.rows).toHaveLength(1);
      expect(JSON.parse(audited.rows[0].after)).toMatchObject({ verificationId: started.body.verificationId, pending: 'add-email-to-certificate' });
      expect(audited.rows[0].after).not.toContain('me@example.tw');
      const message = smtp.received.find((m) => m.to.includes('me@example.tw'))!;
      const code = /code is (\d{6})/.exec(bodyText(message.raw))![1];
      const confirmed = await api.call('POST', '/v1/online/email-in-certificate/confirmation', {
        body: { verificationId: started.body.verificationId, code, csr: await card.csr('signature') },
      });
      expect(confirmed.status).toBe(201);
      expect(confirmed.body.notAfter).toBe(issued.body.certificates[0].notAfter);
      const { rows } = await api.pool.query(
        `SELECT c.kind, c.status, c.email_in_certificate FROM certificate c JOIN card k ON k.id = c.card_id WHERE k.card_number = $1 ORDER BY c.created_at, c.kind DESC`,
        [card.cardNumber],
      );
      expect(rows).toHaveLength(3);
      expect(rows).toEqual(
        expect.arrayContaining([
          { kind: 'signature', status: 'revoked', email_in_certificate: null },
          { kind: 'encryption', status: 'valid', email_in_certificate: null },
          { kind: 'signature', status: 'valid', email_in_certificate: 'me@example.tw' },
        ]),
      );
      const pem = confirmed.body.pem as string;
      const { X509Certificate } = await import('node:crypto');
      expect(new X509Certificate(pem).subjectAltName).toBe('email:me@example.tw');
    } finally {
      await api.close();
      await sms.close();
      await smtp.close();
    }
  }, 60_000);
});

/** The text of a raw message, whatever its transfer encoding (base64 or quoted-printable). */
function bodyText(raw: string): string {
  const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  if (/content-transfer-encoding:\s*base64/i.test(raw)) return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}
