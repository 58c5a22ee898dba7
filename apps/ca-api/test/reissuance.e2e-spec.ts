/**
 * Online re-issuance (線上換發, issue 9) over HTTP on a real PostgreSQL:
 * the holder orders with the old card, pays at the local ECPay simulator
 * (ATM transfer or credit card; signed notifications back to ca-api), the
 * card bureau exports the batch and returns the new card's CSRs (issued on
 * hold), the card is shipped and activated online; a compiled OCSP
 * responder answers `openssl ocsp` (certificateHold in the mail; then the
 * new certificate good, the old one revoked superseded) and the published
 * complete and delta CRLs say the same (certificateHold, then removeFromCRL
 * and superseded). And the refusals.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ecpayCheckMacValue } from '../src/reissuance/payment/ecpay-check-mac';
import { reissuanceExpiryTask } from '../src/jobs/reissuance-expiry.task';
import { applicationBody, CaApiHarness, startCaApi } from '../../../test/support/ca-api-harness';
import { TestCard, validNationalId } from '../../../test/support/card';
import { RunningProcess, startProcess } from '../../../test/support/processes';
import { describeWithTools } from '../../../test/support/system-tool';
import { SoftwareSigner } from '@moica/pki';
import { runPublication } from '../../../db/crl-publisher';
import { ensureDevelopmentHierarchy } from '../../../tools/dev-ca';
import { freePort } from '../../../tools/embedded-postgres';
import { luhnCheckDigit, RunningEcpaySimulator, startEcpaySimulator } from '../../../tools/ecpay-simulator';

const MERCHANT = { merchantId: '3002607', hashKey: 'pwFHCqoQZGmho4w6', hashIV: 'EkRm7iFT261dpevs' };
const USER_CODE = 'Ab%123@x';
// The card is issued 2026-03-02 10:00 Taiwan time: cap 2034-03-02, re-issuance from 2034-01-01 to 2035-03-02.
const ISSUED = '2026-03-02T02:00:00Z';

interface Stack {
  api: CaApiHarness;
  simulator: RunningEcpaySimulator;
}

async function startStack(): Promise<Stack> {
  // The simulator tells time by the API's test clock, which exists once the API has started.
  const started: { api?: CaApiHarness } = {};
  const simulator = await startEcpaySimulator({ ...MERCHANT, now: () => started.api?.clock.now() ?? new Date() });
  const port = await freePort();
  const api = await startCaApi({
    now: ISSUED,
    port,
    // The new card's certificates (5 years from production, near the old card's 8-year cap) must fit in the issuing CA.
    issuingCaYears: 15,
    env: {
      ECPAY_CHECKOUT_URL: simulator.checkoutUrl,
      PAYMENT_NOTIFY_BASE_URL: `http://127.0.0.1:${port}`,
      REISSUANCE_HOLIDAYS: '2034-01-30,2034-01-31,2034-02-01',
    },
  });
  started.api = api;
  return { api, simulator };
}

/** A holder's first card (issued at ISSUED), renewed at the counter to the 8-year cap. */
async function renewedCard(api: CaApiHarness, n: number, prefix = 'TP09'): Promise<{ card: TestCard; nationalId: string }> {
  api.clock.set(ISSUED);
  const card = await TestCard.create(`${prefix}${String(n).padStart(11, '0')}`);
  const nationalId = validNationalId(900 + n);
  const issued = await api.call('POST', '/v1/applications', {
    token: api.tokens.clerk,
    body: applicationBody(card, { signature: await card.csr('signature'), encryption: await card.csr('encryption') }, {
      applicant: { name: `換發${n}`, nationalId, dateOfBirth: '1970-01-01', mobile: '0912000000', email: `r${n}@example.tw` },
    }),
  });
  expect(issued.status).toBe(201);
  api.clock.set('2031-01-15T00:00:00Z');
  const renewed = await api.call('POST', `/v1/cards/${card.cardNumber}/renewal`, {
    token: api.tokens.clerk,
    body: { csrs: { signature: await card.csr('signature'), encryption: await card.csr('encryption') } },
  });
  expect(renewed.status).toBe(201);
  return { card, nationalId };
}

/** The card signs a fresh challenge for `purpose`. */
async function cardSignature(api: CaApiHarness, card: TestCard, purpose: string): Promise<{ challengeId: string; signature: string }> {
  const challenge = await api.call('POST', '/v1/online/challenges', { body: { cardNumber: card.cardNumber, purpose } });
  expect(challenge.status).toBe(201);
  const signature = Buffer.from(await card.signWithSignatureKey(Buffer.from(challenge.body.challenge, 'base64'))).toString('base64');
  return { challengeId: challenge.body.challengeId, signature };
}

async function order(api: CaApiHarness, card: TestCard, postalCode = '10617') {
  return api.call('POST', '/v1/online/reissuance/orders', {
    body: { cardSignature: await cardSignature(api, card, 'online-reissuance'), postalCode, address: '臺北市大安區羅斯福路四段1號' },
  });
}

/** The holder's browser posts the checkout form to the gateway's hosted page. */
async function postCheckout(checkout: { action: string; fields: Record<string, string> }): Promise<any> {
  const response = await fetch(checkout.action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(checkout.fields).toString(),
  });
  expect(response.status).toBe(200);
  return response.json();
}

async function simulator(stack: Stack, path: string, body: unknown): Promise<any> {
  const response = await fetch(`${stack.simulator.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(response.status).toBe(200);
  return response.json();
}

/** A signed ECPay notification posted straight to ca-api (what a forger or a replayer would send). */
async function notify(api: CaApiHarness, fields: Record<string, string>, secrets = MERCHANT): Promise<{ status: number; body: string }> {
  const signed = { ...fields, CheckMacValue: ecpayCheckMacValue(fields, secrets) };
  const response = await fetch(`${api.url}/v1/payments/ecpay/return`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(signed).toString(),
  });
  return { status: response.status, body: await response.text() };
}

/** A paid notification for the first checkout of an order (MerchantTradeNo = order number + P1). */
function paymentFields(orderNumber: string, tradeNo: string, amount: number, paymentDate: string): Record<string, string> {
  return {
    MerchantID: MERCHANT.merchantId,
    MerchantTradeNo: `${orderNumber}P1`,
    RtnCode: '1',
    RtnMsg: '交易成功',
    TradeNo: tradeNo,
    TradeAmt: String(amount),
    PaymentDate: paymentDate,
    PaymentType: 'ATM_TAISHIN',
    PaymentTypeChargeFee: '0',
    TradeDate: paymentDate,
    SimulatePaid: '0',
  };
}

/** The card bureau: export, the new card's CSRs, shipping. Returns the new card. */
async function produceAndShip(api: CaApiHarness, orderId: string, cardNumber: string): Promise<{ card: TestCard; issued: any }> {
  api.clock.set('2034-01-19T01:00:00Z');
  const batch = await api.call('POST', '/v1/operator/reissuance/production-batches', { token: api.tokens.operator });
  expect(batch.status).toBe(201);
  const record = batch.body.orders.find((o: { orderId: string }) => o.orderId === orderId);
  expect(record).toMatchObject({ cardValidUntil: '2039-01-19T00:59:59.000Z', printedValidityDate: '2039/01/19', postalCode: expect.any(String) });
  expect(JSON.stringify(batch.body)).not.toMatch(/A1\d{8}/); // no national ID in the bureau's file

  api.clock.set('2034-01-22T01:00:00Z');
  const card = await TestCard.create(cardNumber);
  const issued = await api.call('POST', `/v1/operator/reissuance/orders/${orderId}/card`, {
    token: api.tokens.operator,
    body: { cardNumber, csrs: { signature: await card.csr('signature'), encryption: await card.csr('encryption') } },
  });
  expect(issued.status).toBe(201);
  expect(issued.body.certificates.map((c: { status: string; notAfter: string }) => [c.status, c.notAfter])).toEqual([
    ['on_hold', '2039-01-19T00:59:59.000Z'],
    ['on_hold', '2039-01-19T00:59:59.000Z'],
  ]);
  const shipped = await api.call('POST', `/v1/operator/reissuance/orders/${orderId}/shipment`, { token: api.tokens.operator, body: { trackingNumber: 'RR123456785TW' } });
  expect(shipped.status).toBe(200);
  expect(shipped.body).toMatchObject({ state: 'shipped', trackingNumber: 'RR123456785TW', refund: 'no-refund' });
  return { card, issued: issued.body };
}

async function activate(api: CaApiHarness, card: TestCard, nationalId: string, userCode = USER_CODE) {
  return api.call('POST', '/v1/online/reissuance/activation', {
    body: { cardSignature: await cardSignature(api, card, 'activation'), nationalId, userCode },
  });
}

function run(command: string, args: string[], cwd: string): { status: number | null; out: string } {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8' });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

describeWithTools(['openssl'], 'online re-issuance end to end (ATM and card payment, bureau, activation, openssl ocsp)', () => {
  let stack: Stack;
  let dir: string;
  let responder: RunningProcess | undefined;
  beforeAll(async () => {
    stack = await startStack();
    dir = mkdtempSync(join(tmpdir(), 'reissuance-e2e-'));
  }, 120_000);
  afterAll(async () => {
    if (responder) {
      responder.child.kill('SIGTERM');
      await responder.exited();
    }
    await stack?.api.close();
    await stack?.simulator.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ATM transfer: order, virtual account, payment (a duplicate is harmless), production on hold, shipping, activation; openssl ocsp says new good, old superseded', async () => {
    const { api } = stack;
    const { card: oldCard, nationalId } = await renewedCard(api, 1);

    api.clock.set('2034-01-16T01:00:00Z'); // Monday 09:00 in Taiwan, inside the window
    const created = await order(api, oldCard);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ state: 'created', amountNtd: 250, paymentDeadline: '2034-01-19T15:59:59.000Z', refund: 'refundable' });
    expect(created.body.refundPolicy).toMatch(/cannot be cancelled or refunded/);
    const orderId = created.body.orderId;
    const again = await order(api, oldCard);
    expect(again.status).toBe(409);
    expect(again.body.type).toBe('urn:moica-ca:problem:reissuance-order-exists');

    const payment = await api.call('POST', `/v1/online/reissuance/orders/${orderId}/payment`, { body: { method: 'atm' } });
    expect(payment.status).toBe(200);
    expect(payment.body.checkout).toMatchObject({ action: stack.simulator.checkoutUrl, method: 'POST' });
    expect(payment.body.checkout.fields).toMatchObject({ ChoosePayment: 'ATM', TotalAmount: '250', ExpireDate: '3', MerchantTradeNo: `${created.body.orderNumber}P1` });
    const page = await postCheckout(payment.body.checkout);
    expect(page.merchantReply).toEqual({ status: 200, body: '1|OK' });
    const awaiting = await api.call('GET', `/v1/online/reissuance/orders/${orderId}`);
    expect(awaiting.body).toMatchObject({ state: 'awaiting_payment', paymentMethod: 'atm', bankCode: '812', virtualAccount: page.vAccount });
    expect(page.vAccount).toMatch(/^\d{14}$/);
    expect(luhnCheckDigit(page.vAccount.slice(0, -1))).toBe(page.vAccount.slice(-1));

    api.clock.set('2034-01-17T04:00:00Z');
    const transfer = await simulator(stack, '/simulator/atm-transfers', { vAccount: page.vAccount, amount: 250 });
    expect(transfer.merchantReply).toEqual({ status: 200, body: '1|OK' });
    const duplicate = await simulator(stack, '/simulator/notifications/resend', { tradeNo: page.TradeNo });
    expect(duplicate.merchantReply).toEqual({ status: 200, body: '1|OK' });
    const paid = await api.call('GET', `/v1/online/reissuance/orders/${orderId}`);
    // Paid Tuesday 17 January: 7 working days, with 30 January - 1 February configured as holidays.
    expect(paid.body).toMatchObject({ state: 'paid', paidAt: '2034-01-17T04:00:00.000Z', deliveryEstimate: { earliest: '2034-01-26', latest: '2034-01-26', region: 'main-island' } });
    const payments = await api.pool.query(`SELECT outcome, amount_twd FROM payment WHERE order_id = $1`, [orderId]);
    expect(payments.rows).toEqual([{ outcome: 'applied', amount_twd: 250 }]);

    const { card: newCard, issued } = await produceAndShip(api, orderId, 'TP0900000000901');
    // A card in the mail is useless: on hold, and no online service accepts it before activation.
    const early = await api.call('POST', '/v1/online/renewal', {
      body: { cardSignature: await cardSignature(api, newCard, 'renewal'), csrs: { signature: await newCard.csr('signature'), encryption: await newCard.csr('encryption') } },
    });
    expect(early.status).toBe(409);

    const cancel = await api.call('POST', `/v1/online/reissuance/orders/${orderId}/cancellation`, {
      body: { cardSignature: await cardSignature(api, oldCard, 'online-reissuance') },
    });
    expect(cancel.status).toBe(409);
    expect(cancel.body.type).toBe('urn:moica-ca:problem:order-not-cancellable');

    // CRLs (RFC 5280 §5.2.4): a complete CRL now lists the new card's certificates on hold ...
    const caRow = await api.pool.query(`SELECT id, key_location FROM certificate_authority WHERE role = 'issuing'`);
    const caSigner = SoftwareSigner.fromEncryptedPem('software:dev-issuing-ca', readFileSync(caRow.rows[0].key_location.replace(/^software:/, ''), 'utf8'), api.env.SOFTWARE_KEY_PASSPHRASE);
    let crlNow = new Date('2034-01-24T00:00:00Z');
    const publish = async (kind: 'complete' | 'delta', at: Date) => {
      crlNow = at;
      const { rows } = await api.pool.query(`INSERT INTO crl_publication (ca_id, kind, slot_at, trigger) VALUES ($1, $2, $3, 'manual') RETURNING id`, [caRow.rows[0].id, kind, at]);
      await runPublication({ pool: api.pool, signerFor: async () => caSigner, publicBaseUrl: 'http://127.0.0.1:3001', now: () => crlNow }, rows[0].id);
      const crl = await api.pool.query(`SELECT der FROM published_crl WHERE kind = $1 AND partition IS NULL ORDER BY crl_number DESC LIMIT 1`, [kind]);
      writeFileSync(join(dir, `${kind}.crl`), crl.rows[0].der);
      return run('openssl', ['crl', '-inform', 'DER', '-in', `${kind}.crl`, '-noout', '-text'], dir).out;
    };
    // openssl prints a serial's magnitude: without the DER sign octet 00 that a high first bit needs.
    const asPrinted = (serial: Buffer) => serial.toString('hex').toUpperCase().replace(/^00(?=[89A-F])/, '');
    const serialOf = async (pem: string) =>
      asPrinted((await api.pool.query(`SELECT serial FROM certificate WHERE der = $1`, [Buffer.from(pem.replace(/-----[^-]+-----|\s+/g, ''), 'base64')])).rows[0].serial);
    const newSerial = await serialOf(issued.certificates[0].pem);
    const complete = await publish('complete', new Date('2034-01-24T00:00:00Z'));
    expect(complete).toMatch(new RegExp(`Serial Number: ${newSerial}\\s+Revocation Date: .*\\s+CRL entry extensions:\\s+X509v3 CRL Reason Code:\\s+Certificate Hold`));

    // What relying parties see: a compiled responder at the activation instant, openssl as the client.
    const at = new Date('2034-01-25T02:00:00Z');
    await ensureDevelopmentHierarchy({
      databaseUrl: api.databaseUrl,
      keysDir: api.keysDir,
      passphrase: api.env.SOFTWARE_KEY_PASSPHRASE,
      publicBaseUrl: 'http://127.0.0.1:3001',
      now: at, // the first OCSP signer (60 days) expired long ago in this timeline: a new one
    });
    writeFileSync(join(dir, 'root.pem'), readFileSync(join(api.keysDir, 'dev-root-ca.crt.pem')));
    writeFileSync(join(dir, 'issuing.pem'), readFileSync(join(api.keysDir, 'dev-issuing-ca.crt.pem')));
    writeFileSync(join(dir, 'new.pem'), issued.certificates[0].pem);
    const oldSignature = await api.pool.query(
      `SELECT c.der, c.serial FROM certificate c JOIN card k ON k.id = c.card_id WHERE k.card_number = $1 AND c.kind = 'signature' ORDER BY c.not_after DESC, c.created_at DESC LIMIT 1`,
      [oldCard.cardNumber],
    );
    writeFileSync(join(dir, 'old.pem'), `-----BEGIN CERTIFICATE-----\n${oldSignature.rows[0].der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`);
    const port = await freePort();
    responder = startProcess('apps/ocsp-responder/src/main.js', {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      DATABASE_URL: api.databaseUrl,
      PII_ENCRYPTION_KEY: api.env.PII_ENCRYPTION_KEY,
      PII_HMAC_KEY: api.env.PII_HMAC_KEY,
      SOFTWARE_KEY_PASSPHRASE: api.env.SOFTWARE_KEY_PASSPHRASE,
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      OCSP_PORT: String(port),
      FAKE_CLOCK: at.toISOString(),
    });
    await responder.waitFor(/listening on/, 60_000);
    // openssl checks the chain at the timeline's instant (-attime) and accepts a thisUpdate that far from the real clock (-validity_period).
    const skew = Math.ceil(Math.abs(at.getTime() - Date.now()) / 1000) + 86_400;
    const ocsp = () =>
      run(
        'openssl',
        ['ocsp', '-issuer', 'issuing.pem', '-cert', 'new.pem', '-cert', 'old.pem', '-url', `http://127.0.0.1:${port}/ocsp/dev-issuing`, '-CAfile', 'root.pem',
          '-attime', String(Math.floor(at.getTime() / 1000)), '-validity_period', String(skew)],
        dir,
      ).out;
    // In the mail: the new card's certificate is on hold, the old card still good.
    const inTheMail = ocsp();
    expect(inTheMail).toContain('Response verify OK');
    expect(inTheMail).toMatch(/new\.pem: revoked\s+This Update: .*\s+Next Update: .*\s+Reason: certificateHold/);
    expect(inTheMail).toMatch(/old\.pem: good/);

    api.clock.set('2034-01-25T02:00:00Z');
    const activated = await activate(api, newCard, nationalId);
    expect(activated.status).toBe(200);
    expect(activated.body.activated.map((c: { status: string }) => c.status)).toEqual(['valid', 'valid']);
    expect(activated.body.superseded).toHaveLength(2);
    const final = await api.call('GET', `/v1/online/reissuance/orders/${orderId}`);
    expect(final.body.state).toBe('activated');
    const rows = await api.pool.query(
      `SELECT k.card_number, c.status, c.revocation_reason FROM certificate c JOIN card k ON k.id = c.card_id
        WHERE k.holder_id = (SELECT holder_id FROM reissuance_order WHERE id = $1) AND c.status <> 'abandoned'
        ORDER BY k.issued_at, c.created_at, c.kind`,
      [orderId],
    );
    expect(rows.rows.map((r) => [r.card_number, r.status, r.revocation_reason])).toEqual([
      [oldCard.cardNumber, 'revoked', 4],
      [oldCard.cardNumber, 'revoked', 4],
      [oldCard.cardNumber, 'revoked', 4],
      [oldCard.cardNumber, 'revoked', 4],
      [newCard.cardNumber, 'valid', null],
      [newCard.cardNumber, 'valid', null],
    ]);
    const audit = await api.pool.query(`SELECT operation FROM audit_log WHERE subject_id = $1 ORDER BY id`, [created.body.orderNumber]);
    expect(audit.rows.map((r) => r.operation)).toEqual([
      'reissuance.created',
      'reissuance.start-payment',
      'reissuance.atm-account-assigned',
      'reissuance.payment-received',
      'reissuance.start-production',
      'reissuance.card-issued',
      'reissuance.ship',
      'reissuance.activate',
    ]);
    expect((await api.call('GET', '/v1/audit/verification', { token: api.tokens.auditor })).body).toMatchObject({ intact: true });

    // The responder hears of the change (LISTEN/NOTIFY) within moments: poll, as a relying party would.
    let answer = '';
    for (let tries = 0; tries < 50; tries++) {
      answer = ocsp();
      if (/new\.pem: good/.test(answer) && /old\.pem: revoked/.test(answer)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(answer).toContain('Response verify OK');
    expect(answer).toMatch(/new\.pem: good/);
    expect(answer).toMatch(/old\.pem: revoked\s+This Update: .*\s+Next Update: .*\s+Reason: superseded\s+Revocation Time: Jan 25 02:00:00 2034 GMT/);

    // ... and the next delta CRL removes them (removeFromCRL) and lists the old card's as superseded.
    const delta = await publish('delta', new Date('2034-01-25T04:00:00Z'));
    expect(delta).toContain('Delta CRL Indicator: critical');
    expect(delta).toMatch(new RegExp(`Serial Number: ${newSerial}\\s+Revocation Date: .*\\s+CRL entry extensions:\\s+X509v3 CRL Reason Code:\\s+Remove From CRL`));
    const oldSerial = asPrinted(oldSignature.rows[0].serial);
    expect(delta).toMatch(new RegExp(`Serial Number: ${oldSerial}\\s+Revocation Date: .*\\s+CRL entry extensions:\\s+X509v3 CRL Reason Code:\\s+Superseded`));
    await caSigner.close();
  }, 180_000);

  it('credit card: hosted page, approved payment, production, activation', async () => {
    const { api } = stack;
    const { card: oldCard, nationalId } = await renewedCard(api, 2);
    api.clock.set('2034-01-16T02:00:00Z');
    const created = await order(api, oldCard, '88041'); // Penghu: 2 to 3 more working days
    expect(created.status).toBe(201);
    const orderId = created.body.orderId;
    // The holder first picks ATM, then changes their mind: a new checkout, with a new number at the gateway.
    const atm = await api.call('POST', `/v1/online/reissuance/orders/${orderId}/payment`, { body: { method: 'atm' } });
    const atmPage = await postCheckout(atm.body.checkout);
    expect((await api.call('GET', `/v1/online/reissuance/orders/${orderId}`)).body.virtualAccount).toBe(atmPage.vAccount);
    const payment = await api.call('POST', `/v1/online/reissuance/orders/${orderId}/payment`, { body: { method: 'credit_card' } });
    expect(payment.status).toBe(200);
    expect(payment.body.checkout.fields).toMatchObject({ ChoosePayment: 'Credit', TotalAmount: '250', MerchantTradeNo: `${created.body.orderNumber}P2` });
    expect(payment.body.order).toMatchObject({ paymentMethod: 'credit_card', virtualAccount: null });
    expect(payment.body.checkout.fields.PaymentInfoURL).toBeUndefined();
    const page = await postCheckout(payment.body.checkout);
    expect(page.vAccount).toBeUndefined();
    api.clock.set('2034-01-16T02:05:00Z');
    const approved = await simulator(stack, '/simulator/card-payments', { tradeNo: page.TradeNo, approved: true });
    expect(approved.merchantReply).toEqual({ status: 200, body: '1|OK' });
    const paid = await api.call('GET', `/v1/online/reissuance/orders/${orderId}`);
    expect(paid.body).toMatchObject({
      state: 'paid',
      paymentMethod: 'credit_card',
      deliveryEstimate: { earliest: '2034-01-27', latest: '2034-02-02', region: 'outlying-island' },
    });
    const { card: newCard } = await produceAndShip(api, orderId, 'TP0900000000902');
    api.clock.set('2034-01-24T01:00:00Z');
    const delivered = await api.call('POST', `/v1/operator/reissuance/orders/${orderId}/delivery`, { token: api.tokens.operator });
    expect(delivered.body.state).toBe('delivered');
    const activated = await activate(api, newCard, nationalId);
    expect(activated.status).toBe(200);
    expect(activated.body.superseded).toHaveLength(2);
    const replay = await activate(api, newCard, nationalId);
    expect(replay.status).toBe(409);
  }, 120_000);
});

describe('online re-issuance refusals', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  }, 120_000);
  afterAll(async () => {
    await stack?.api.close();
    await stack?.simulator.close();
  });

  it('refuses outside the window: 61 days before the cap and 1 year after it', async () => {
    const { api } = stack;
    const { card } = await renewedCard(api, 11, 'TP08');
    api.clock.set('2033-12-31T00:00:00Z');
    const early = await order(api, card);
    expect(early.status).toBe(409);
    expect(early.body.type).toBe('urn:moica-ca:problem:reissuance-window-not-open');
    api.clock.set('2035-03-03T00:00:00Z');
    const late = await order(api, card);
    expect(late.status).toBe(409);
    expect(late.body.type).toBe('urn:moica-ca:problem:reissuance-window-closed');
  });

  it('refuses a certificate that was suspended when it expired, and an address abroad', async () => {
    const { api } = stack;
    const { card, nationalId } = await renewedCard(api, 12, 'TP08');
    api.clock.set('2034-02-20T00:00:00Z');
    const suspended = await api.call('POST', '/v1/online/suspension', { body: { nationalId, cardNumber: card.cardNumber, userCode: USER_CODE } });
    expect(suspended.status).toBe(200);
    api.clock.set('2034-06-01T00:00:00Z'); // after the cap: the certificate expired suspended
    const refused = await order(api, card);
    expect(refused.status).toBe(409);
    expect(refused.body.type).toBe('urn:moica-ca:problem:suspended-at-expiry');

    const { card: other } = await renewedCard(api, 13, 'TP08');
    api.clock.set('2034-01-20T00:00:00Z');
    const abroad = await order(api, other, 'SW1A1');
    expect(abroad.status).toBe(422);
    expect(abroad.body.type).toBe('urn:moica-ca:problem:postal-code-invalid');
  });

  it('refuses a forged notification, records a wrong amount and a late payment as flagged, ignores a duplicate', async () => {
    const { api } = stack;
    const { card } = await renewedCard(api, 14, 'TP08');
    api.clock.set('2034-01-16T01:00:00Z');
    const created = await order(api, card);
    const orderId = created.body.orderId;
    const orderNumber = created.body.orderNumber;
    await api.call('POST', `/v1/online/reissuance/orders/${orderId}/payment`, { body: { method: 'atm' } });

    const forged = await notify(api, paymentFields(orderNumber, '2401160000001', 250, '2034/01/16 10:00:00'), { ...MERCHANT, hashKey: 'XXXXXXXXXXXXXXXX' });
    expect(forged.status).toBe(400);
    expect(JSON.parse(forged.body).type).toBe('urn:moica-ca:problem:payment-notification-signature-invalid');
    const tampered = paymentFields(orderNumber, '2401160000001', 250, '2034/01/16 10:00:00');
    const signed = { ...tampered, CheckMacValue: ecpayCheckMacValue(tampered, MERCHANT) };
    const raised = await fetch(`${api.url}/v1/payments/ecpay/return`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...signed, TradeAmt: '1' }).toString(),
    });
    expect(raised.status).toBe(400);

    const wrongAmount = await notify(api, paymentFields(orderNumber, '2401160000002', 200, '2034/01/16 10:00:00'));
    expect(wrongAmount).toEqual({ status: 200, body: '1|OK' });
    expect((await api.call('GET', `/v1/online/reissuance/orders/${orderId}`)).body.state).toBe('awaiting_payment');

    // The same notification ten times at once (ECPay retries, a replay): all acknowledged, applied once.
    const right = paymentFields(orderNumber, '2401160000003', 250, '2034/01/16 10:05:00');
    const answers = await Promise.all(Array.from({ length: 10 }, () => notify(api, right)));
    expect(answers).toEqual(Array.from({ length: 10 }, () => ({ status: 200, body: '1|OK' })));
    expect(await notify(api, right)).toEqual({ status: 200, body: '1|OK' });
    const applied = await api.pool.query(`SELECT count(*)::int AS n FROM audit_log WHERE subject_id = $1 AND operation = 'reissuance.payment-received'`, [orderNumber]);
    expect(applied.rows[0].n).toBe(1);
    expect((await api.call('GET', `/v1/online/reissuance/orders/${orderId}`)).body.state).toBe('paid');
    const recorded = await api.pool.query(`SELECT provider_trade_no, outcome, flagged IS NOT NULL AS flagged FROM payment WHERE order_id = $1 ORDER BY provider_trade_no`, [orderId]);
    expect(recorded.rows).toEqual([
      { provider_trade_no: '2401160000002', outcome: 'amount-mismatch', flagged: true },
      { provider_trade_no: '2401160000003', outcome: 'applied', flagged: false },
    ]);

    // A second order, paid after its deadline: the order expires, the payment is kept and flagged.
    const { card: lateCard } = await renewedCard(api, 15, 'TP08');
    api.clock.set('2034-01-16T01:00:00Z');
    const lateOrder = await order(api, lateCard);
    await api.call('POST', `/v1/online/reissuance/orders/${lateOrder.body.orderId}/payment`, { body: { method: 'atm' } });
    api.clock.set('2034-01-20T01:00:00Z');
    const late = await notify(api, paymentFields(lateOrder.body.orderNumber, '2401200000004', 250, '2034/01/20 09:00:00'));
    expect(late).toEqual({ status: 200, body: '1|OK' });
    expect((await api.call('GET', `/v1/online/reissuance/orders/${lateOrder.body.orderId}`)).body.state).toBe('expired');
    const latePayment = await api.pool.query(`SELECT outcome, flagged FROM payment WHERE provider_trade_no = '2401200000004'`);
    expect(latePayment.rows[0]).toMatchObject({ outcome: 'late', flagged: expect.stringMatching(/refund/) });
    // The holder may order again once the first order expired.
    expect((await order(api, lateCard)).status).toBe(201);

    // Operators see what they must settle; clerks do not.
    const flagged = await api.call('GET', '/v1/operator/reissuance/payments/flagged', { token: api.tokens.auditor });
    expect(flagged.status).toBe(200);
    expect(flagged.body.payments.map((p: { provider_trade_no: string; outcome: string }) => [p.provider_trade_no, p.outcome])).toEqual([
      ['2401200000004', 'late'],
      ['2401160000002', 'amount-mismatch'],
    ]);
    expect((await api.call('GET', '/v1/operator/reissuance/payments/flagged', { token: api.tokens.clerk })).status).toBe(403);

    // A paid order cancelled before production is refunded; the API says so.
    api.clock.set('2034-01-20T02:00:00Z');
    const cancelled = await api.call('POST', `/v1/online/reissuance/orders/${orderId}/cancellation`, {
      body: { cardSignature: await cardSignature(api, card, 'online-reissuance') },
    });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ state: 'cancelled', refundDue: true, refund: 'refundable' });
  });

  it('expires unpaid orders at their deadline: the operator call and the worker task, each audited', async () => {
    const { api } = stack;
    const { card: first } = await renewedCard(api, 18, 'TP08');
    const { card: second } = await renewedCard(api, 19, 'TP08');
    api.clock.set('2034-02-01T01:00:00Z');
    const unpaid = await order(api, first);
    const alsoUnpaid = await order(api, second);
    await api.call('POST', `/v1/online/reissuance/orders/${alsoUnpaid.body.orderId}/payment`, { body: { method: 'credit_card' } });
    api.clock.set('2034-02-04T15:59:59Z'); // the last second of the deadline day in Taiwan
    expect((await api.call('POST', '/v1/operator/reissuance/expiry', { token: api.tokens.operator })).body.expired).not.toContain(unpaid.body.orderNumber);
    expect((await api.call('POST', '/v1/operator/reissuance/expiry', { token: api.tokens.clerk })).status).toBe(403);
    api.clock.set('2034-02-04T16:00:00Z');
    const byOperator = await api.call('POST', '/v1/operator/reissuance/expiry', { token: api.tokens.operator });
    expect(byOperator.body.expired).toEqual(expect.arrayContaining([unpaid.body.orderNumber, alsoUnpaid.body.orderNumber]));
    expect((await api.call('GET', `/v1/online/reissuance/orders/${unpaid.body.orderId}`)).body.state).toBe('expired');
    const late = await api.call('POST', `/v1/online/reissuance/orders/${unpaid.body.orderId}/payment`, { body: { method: 'atm' } });
    expect(late.status).toBe(409);

    // The worker's task does the same through a plain pg pool.
    const { card: third } = await renewedCard(api, 20, 'TP08');
    api.clock.set('2034-02-05T01:00:00Z');
    const thirdOrder = await order(api, third);
    api.clock.set('2034-02-09T01:00:00Z');
    const logged: string[] = [];
    await reissuanceExpiryTask(api.pool, api.clock)({}, { logger: { info: (message: string) => logged.push(message) } } as never);
    expect(logged.join('\n')).toContain(thirdOrder.body.orderNumber);
    expect((await api.call('GET', `/v1/online/reissuance/orders/${thirdOrder.body.orderId}`)).body.state).toBe('expired');
    const audit = await api.pool.query(`SELECT operation, actor_kind FROM audit_log WHERE subject_id = $1 ORDER BY id`, [thirdOrder.body.orderNumber]);
    expect(audit.rows).toEqual([
      { operation: 'reissuance.created', actor_kind: 'holder' },
      { operation: 'reissuance.expire', actor_kind: 'system' },
    ]);
  });

  it('refuses activation with a wrong user code and with another holder\'s card', async () => {
    const { api } = stack;
    const { card: oldCard, nationalId } = await renewedCard(api, 16, 'TP08');
    const { card: otherHoldersCard, nationalId: otherNationalId } = await renewedCard(api, 17, 'TP08');
    api.clock.set('2034-01-16T01:00:00Z');
    const created = await order(api, oldCard);
    const orderId = created.body.orderId;
    await api.call('POST', `/v1/online/reissuance/orders/${orderId}/payment`, { body: { method: 'atm' } });
    expect(await notify(api, paymentFields(created.body.orderNumber, '2401160000016', 250, '2034/01/16 10:00:00'))).toEqual({ status: 200, body: '1|OK' });
    const { card: newCard } = await produceAndShip(api, orderId, 'TP0800000000916');
    const csrsOf = async (card: TestCard) => ({ signature: await card.csr('signature'), encryption: await card.csr('encryption') });
    const twice = await api.call('POST', `/v1/operator/reissuance/orders/${orderId}/card`, {
      token: api.tokens.operator,
      body: { cardNumber: 'TP0800000000999', csrs: await csrsOf(await TestCard.create('TP0800000000999')) },
    });
    expect(twice.status).toBe(409);
    expect((await api.call('POST', `/v1/operator/reissuance/orders/${orderId}/card`, { token: api.tokens.clerk, body: {} })).status).toBe(403);

    // The other holder's order in production: the bureau cannot reuse a card number, nor a key pair already certified.
    api.clock.set('2034-01-16T01:00:00Z');
    const otherOrder = await order(api, otherHoldersCard);
    await api.call('POST', `/v1/online/reissuance/orders/${otherOrder.body.orderId}/payment`, { body: { method: 'atm' } });
    expect((await notify(api, paymentFields(otherOrder.body.orderNumber, '2401160000017', 250, '2034/01/16 10:00:00'))).body).toBe('1|OK');
    api.clock.set('2034-01-23T01:00:00Z');
    expect((await api.call('POST', '/v1/operator/reissuance/production-batches', { token: api.tokens.operator })).status).toBe(201);
    const reused = await api.call('POST', `/v1/operator/reissuance/orders/${otherOrder.body.orderId}/card`, {
      token: api.tokens.operator,
      body: { cardNumber: newCard.cardNumber, csrs: await csrsOf(await TestCard.create('TP0800000000998')) },
    });
    expect(reused.status).toBe(409);
    expect(reused.body.type).toBe('urn:moica-ca:problem:card-number-in-use');
    const knownKeys = await api.call('POST', `/v1/operator/reissuance/orders/${otherOrder.body.orderId}/card`, {
      token: api.tokens.operator,
      body: { cardNumber: 'TP0800000000997', csrs: await csrsOf(newCard) },
    });
    expect(knownKeys.status).toBe(422);

    api.clock.set('2034-01-25T02:00:00Z');
    const wrongCode = await activate(api, newCard, nationalId, 'Wrong#123');
    expect(wrongCode.status).toBe(403);
    expect(wrongCode.body.type).toBe('urn:moica-ca:problem:user-code-incorrect');

    // Another holder's card, with this holder's user code: not their card.
    const otherCard = await activate(api, otherHoldersCard, nationalId);
    expect(otherCard.status).toBe(403);
    expect(otherCard.body.type).toBe('urn:moica-ca:problem:card-not-holders');
    // The other holder, with the other holder's own code, on a card they hold that no order produced.
    const notReissued = await activate(api, otherHoldersCard, otherNationalId);
    expect(notReissued.status).toBe(404);
    expect(notReissued.body.type).toBe('urn:moica-ca:problem:reissuance-order-not-found');

    const still = await api.pool.query(`SELECT c.status FROM certificate c JOIN card k ON k.id = c.card_id WHERE k.card_number = $1`, [newCard.cardNumber]);
    expect(still.rows.map((r) => r.status)).toEqual(['on_hold', 'on_hold']);
    expect((await activate(api, newCard, nationalId)).status).toBe(200);
  });
});
