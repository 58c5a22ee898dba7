/**
 * A local ECPay All-In-One (全方位金流) for development and tests: it speaks
 * the protocol ca-api's EcpayGateway speaks to the real one, with the same
 * merchant HashKey/HashIV, so the whole payment path runs without the
 * Internet and without money.
 *
 * - `POST /Cashier/AioCheckOut/V5` (form, as the holder's browser posts it):
 *   checks the CheckMacValue, the merchant and the order number (unique),
 *   creates the trade. ChoosePayment=ATM: assigns a virtual account (bank
 *   812, 14 digits: `9`, 5-digit merchant prefix, 7-digit sequence, Luhn
 *   check digit) and posts it to PaymentInfoURL (RtnCode 2), as ECPay does.
 *   Answers HTML for a browser, JSON when asked (`Accept: application/json`).
 * - What the payer does, for tests and demos (JSON):
 *   `POST /simulator/atm-transfers { vAccount, amount }` (the bank reports
 *   the amount actually transferred), `POST /simulator/card-payments
 *   { tradeNo, approved }`, and `POST /simulator/notifications/resend
 *   { tradeNo }` (ECPay re-sends a notification until it reads `1|OK`; a
 *   duplicate must be harmless). Each posts the signed ReturnURL
 *   notification (RtnCode 1 paid, 10100058 declined) and answers with
 *   what the merchant replied.
 *
 * Not simulated: ECPay's own retries on a missing `1|OK`, refunds, CVS and
 * barcode payments, QueryTradeInfo.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { ecpayCheckMacValue, hasValidCheckMacValue } from '../apps/ca-api/src/reissuance/payment/ecpay-check-mac';
import { taiwanDateTime } from '../apps/ca-api/src/reissuance/payment/ecpay.gateway';

export interface EcpaySimulatorOptions {
  merchantId: string;
  hashKey: string;
  hashIV: string;
  /** The simulator's time (tests pass their clock); real time by default. */
  now?: () => Date;
  port?: number;
  host?: string;
}

interface Trade {
  tradeNo: string;
  merchantTradeNo: string;
  amount: number;
  choosePayment: 'ATM' | 'Credit';
  returnUrl: string;
  paymentInfoUrl?: string;
  tradeDate: string;
  expireDays: number;
  bankCode?: string;
  vAccount?: string;
  lastNotification?: { url: string; fields: Record<string, string> };
}

export interface RunningEcpaySimulator {
  url: string;
  checkoutUrl: string;
  close(): Promise<void>;
}

/** The Luhn check digit of a string of digits (the simulated bank's virtual-account rule). */
export function luhnCheckDigit(digits: string): string {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

export async function startEcpaySimulator(options: EcpaySimulatorOptions): Promise<RunningEcpaySimulator> {
  const now = options.now ?? (() => new Date());
  const secrets = { hashKey: options.hashKey, hashIV: options.hashIV };
  const trades = new Map<string, Trade>();
  const byMerchantTradeNo = new Map<string, Trade>();
  const byAccount = new Map<string, Trade>();
  let sequence = 0;

  async function notify(trade: Trade, url: string, fields: Record<string, string>): Promise<{ status: number; body: string }> {
    const signed = { ...fields, CheckMacValue: ecpayCheckMacValue(fields, secrets) };
    trade.lastNotification = { url, fields: signed };
    return post(url, signed);
  }

  async function post(url: string, fields: Record<string, string>): Promise<{ status: number; body: string }> {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
    return { status: response.status, body: await response.text() };
  }

  function paymentFields(trade: Trade, rtnCode: string, rtnMsg: string, amount: number, paymentType: string): Record<string, string> {
    return {
      MerchantID: options.merchantId,
      MerchantTradeNo: trade.merchantTradeNo,
      StoreID: '',
      RtnCode: rtnCode,
      RtnMsg: rtnMsg,
      TradeNo: trade.tradeNo,
      TradeAmt: String(amount),
      PaymentDate: taiwanDateTime(now()),
      PaymentType: paymentType,
      PaymentTypeChargeFee: '0',
      TradeDate: trade.tradeDate,
      SimulatePaid: '0',
      CustomField1: '',
      CustomField2: '',
      CustomField3: '',
      CustomField4: '',
    };
  }

  async function checkout(fields: Record<string, string>, wantsJson: boolean, res: ServerResponse): Promise<void> {
    if (!hasValidCheckMacValue(fields, secrets)) return send(res, 400, { error: 'CheckMacValue Error' });
    if (fields.MerchantID !== options.merchantId) return send(res, 400, { error: 'MerchantID Error' });
    if (!/^[A-Za-z0-9]{1,20}$/.test(fields.MerchantTradeNo ?? '')) return send(res, 400, { error: 'MerchantTradeNo Error' });
    if (byMerchantTradeNo.has(fields.MerchantTradeNo)) return send(res, 400, { error: 'MerchantTradeNo Duplicate' });
    const amount = Number(fields.TotalAmount);
    if (!Number.isSafeInteger(amount) || amount <= 0) return send(res, 400, { error: 'TotalAmount Error' });
    if (fields.ChoosePayment !== 'ATM' && fields.ChoosePayment !== 'Credit') return send(res, 400, { error: 'ChoosePayment not simulated' });
    sequence++;
    const trade: Trade = {
      tradeNo: `${taiwanDateTime(now()).replace(/\D/g, '').slice(2, 12)}${String(sequence).padStart(4, '0')}`,
      merchantTradeNo: fields.MerchantTradeNo,
      amount,
      choosePayment: fields.ChoosePayment,
      returnUrl: fields.ReturnURL,
      paymentInfoUrl: fields.PaymentInfoURL,
      tradeDate: taiwanDateTime(now()),
      expireDays: Number(fields.ExpireDate ?? '3'),
    };
    trades.set(trade.tradeNo, trade);
    byMerchantTradeNo.set(trade.merchantTradeNo, trade);
    let assigned: { status: number; body: string } | undefined;
    if (trade.choosePayment === 'ATM') {
      const body = `9${options.merchantId.slice(-5).padStart(5, '0')}${String(sequence).padStart(7, '0')}`;
      trade.bankCode = '812';
      trade.vAccount = `${body}${luhnCheckDigit(body)}`;
      byAccount.set(trade.vAccount, trade);
      const expire = new Date(now().getTime() + trade.expireDays * 86_400_000);
      if (trade.paymentInfoUrl) {
        assigned = await notify(trade, trade.paymentInfoUrl, {
          MerchantID: options.merchantId,
          MerchantTradeNo: trade.merchantTradeNo,
          StoreID: '',
          RtnCode: '2',
          RtnMsg: 'Get VirtualAccount Succeeded',
          TradeNo: trade.tradeNo,
          TradeAmt: String(amount),
          PaymentType: 'ATM_TAISHIN',
          TradeDate: trade.tradeDate,
          BankCode: trade.bankCode,
          vAccount: trade.vAccount,
          ExpireDate: taiwanDateTime(expire).slice(0, 10),
          CustomField1: '',
          CustomField2: '',
          CustomField3: '',
          CustomField4: '',
        });
      }
    }
    const view = { TradeNo: trade.tradeNo, MerchantTradeNo: trade.merchantTradeNo, ChoosePayment: trade.choosePayment, BankCode: trade.bankCode, vAccount: trade.vAccount, merchantReply: assigned };
    if (wantsJson) return send(res, 200, view);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(
      `<!doctype html><title>ECPay simulator</title><h1>ECPay simulator (development)</h1><p>Trade ${view.TradeNo} for NT$${amount}</p>` +
        (trade.vAccount ? `<p>Transfer to bank ${trade.bankCode}, account <b>${trade.vAccount}</b></p>` : '<p>Card payment: POST /simulator/card-payments</p>'),
    );
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'POST' && path === '/Cashier/AioCheckOut/V5') {
      return checkout(Object.fromEntries(new URLSearchParams(body)), (req.headers.accept ?? '').includes('application/json'), res);
    }
    const json = (() => {
      try {
        return JSON.parse(body || '{}') as Record<string, unknown>;
      } catch {
        return null;
      }
    })();
    if (!json) return send(res, 400, { error: 'JSON body expected' });
    if (req.method === 'POST' && path === '/simulator/atm-transfers') {
      const trade = byAccount.get(String(json.vAccount));
      if (!trade) return send(res, 404, { error: 'no such virtual account' });
      const amount = Number(json.amount ?? trade.amount);
      return send(res, 200, { merchantReply: await notify(trade, trade.returnUrl, paymentFields(trade, '1', '交易成功', amount, 'ATM_TAISHIN')) });
    }
    if (req.method === 'POST' && path === '/simulator/card-payments') {
      const trade = trades.get(String(json.tradeNo));
      if (!trade || trade.choosePayment !== 'Credit') return send(res, 404, { error: 'no such card trade' });
      const fields = json.approved === false
        ? paymentFields(trade, '10100058', '付款失敗', trade.amount, 'Credit_CreditCard')
        : paymentFields(trade, '1', '交易成功', trade.amount, 'Credit_CreditCard');
      return send(res, 200, { merchantReply: await notify(trade, trade.returnUrl, fields) });
    }
    if (req.method === 'POST' && path === '/simulator/notifications/resend') {
      const trade = trades.get(String(json.tradeNo));
      if (!trade?.lastNotification) return send(res, 404, { error: 'nothing was sent for this trade' });
      return send(res, 200, { merchantReply: await post(trade.lastNotification.url, trade.lastNotification.fields) });
    }
    return send(res, 404, { error: 'not found' });
  }

  const server: Server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => send(res, 502, { error: error instanceof Error ? error.message : String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  const url = `http://${options.host ?? '127.0.0.1'}:${address.port}`;
  return {
    url,
    checkoutUrl: `${url}/Cashier/AioCheckOut/V5`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > 1_000_000) req.destroy(new Error('body too large'));
    });
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
