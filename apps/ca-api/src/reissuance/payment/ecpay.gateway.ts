import { addSeconds } from '@moica/policy';
import { ecpayCheckMacValue, hasValidCheckMacValue } from './ecpay-check-mac';
import { CheckoutForm, CheckoutOrder, PaymentGateway, PaymentNotification, PaymentNotificationRejected } from './payment-gateway';

/** The merchant's ECPay settings (validated configuration, docs/reissuance.md). */
export interface EcpaySettings {
  merchantId: string;
  hashKey: string;
  hashIV: string;
  /** AioCheckOut/V5 URL (ECPay's, or the local simulator's in development and tests). */
  checkoutUrl: string;
  /** Public base URL of ca-api, where ECPay posts notifications. */
  notifyBaseUrl: string;
}

export const ECPAY_RETURN_PATH = '/v1/payments/ecpay/return';
export const ECPAY_PAYMENT_INFO_PATH = '/v1/payments/ecpay/payment-info';

/** ECPay's RtnCode of a successful payment, and of an ATM account assigned (取號成功). */
const RTN_PAID = '1';
const RTN_ATM_ASSIGNED = '2';

/**
 * ECPay All-In-One (全方位金流) as a PaymentGateway: AioCheckOut/V5 with
 * ChoosePayment=ATM (ECPay assigns a virtual account and posts it to
 * PaymentInfoURL, RtnCode 2) or Credit (hosted card page); the payment
 * result is posted to ReturnURL (RtnCode 1), answered `1|OK`. Every
 * message carries a CheckMacValue (SHA-256, EncryptType=1).
 */
export class EcpayGateway implements PaymentGateway {
  readonly provider = 'ecpay';
  readonly acknowledgement = '1|OK';

  constructor(private readonly settings: EcpaySettings) {}

  checkout(order: CheckoutOrder): CheckoutForm {
    const fields: Record<string, string> = {
      MerchantID: this.settings.merchantId,
      MerchantTradeNo: order.orderNumber,
      MerchantTradeDate: taiwanDateTime(order.orderedAt),
      PaymentType: 'aio',
      TotalAmount: String(order.amountNtd),
      TradeDesc: 'MOICA natural person certificate card re-issuance',
      ItemName: '自然人憑證IC卡線上換發 card fee',
      ReturnURL: `${this.settings.notifyBaseUrl}${ECPAY_RETURN_PATH}`,
      ChoosePayment: order.method === 'atm' ? 'ATM' : 'Credit',
      EncryptType: '1',
      NeedExtraPaidInfo: 'N',
    };
    if (order.method === 'atm') {
      // ATM: whole days to the transfer deadline (1-60); ECPay and the order both end at 23:59:59 Taiwan time of that day.
      const days = Math.max(1, Math.min(60, Math.floor((order.paymentDeadline.getTime() - order.orderedAt.getTime()) / 86_400_000)));
      fields.ExpireDate = String(days);
      fields.PaymentInfoURL = `${this.settings.notifyBaseUrl}${ECPAY_PAYMENT_INFO_PATH}`;
    }
    fields.CheckMacValue = ecpayCheckMacValue(fields, this.settings);
    return { action: this.settings.checkoutUrl, method: 'POST', fields };
  }

  readNotification(fields: Record<string, string>): PaymentNotification {
    if (!hasValidCheckMacValue(fields, this.settings)) {
      throw new PaymentNotificationRejected('signature-invalid', 'the CheckMacValue does not verify with the merchant HashKey and HashIV');
    }
    if (fields.MerchantID !== this.settings.merchantId) throw new PaymentNotificationRejected('merchant-mismatch', 'the notification is for another merchant');
    const orderNumber = fields.MerchantTradeNo ?? '';
    const providerTradeNo = fields.TradeNo ?? '';
    const amount = Number(fields.TradeAmt);
    if (!/^[A-Za-z0-9]{1,20}$/.test(orderNumber) || !/^[A-Za-z0-9]{1,30}$/.test(providerTradeNo) || !Number.isSafeInteger(amount) || amount < 0) {
      throw new PaymentNotificationRejected('malformed', 'MerchantTradeNo, TradeNo or TradeAmt is missing or malformed');
    }
    if (fields.RtnCode === RTN_ATM_ASSIGNED && fields.vAccount) {
      if (!/^\d{6,16}$/.test(fields.vAccount) || !/^\d{3}$/.test(fields.BankCode ?? '')) {
        throw new PaymentNotificationRejected('malformed', 'BankCode or vAccount is malformed');
      }
      return { kind: 'atm-account-assigned', orderNumber, providerTradeNo, amountNtd: amount, bankCode: fields.BankCode, virtualAccount: fields.vAccount, raw: fields };
    }
    const type = fields.PaymentType ?? '';
    return {
      kind: 'payment',
      orderNumber,
      providerTradeNo,
      amountNtd: amount,
      succeeded: fields.RtnCode === RTN_PAID,
      paidAt: parseTaiwanDateTime(fields.PaymentDate) ?? new Date(NaN),
      method: type.startsWith('ATM_') ? 'atm' : type.startsWith('Credit_') ? 'credit_card' : 'other',
      raw: fields,
    };
  }
}

/** ECPay's yyyy/MM/dd HH:mm:ss in Taiwan time (UTC+8). */
export function taiwanDateTime(instant: Date): string {
  const wall = addSeconds(instant, 8 * 3600);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${wall.getUTCFullYear()}/${pad(wall.getUTCMonth() + 1)}/${pad(wall.getUTCDate())} ${pad(wall.getUTCHours())}:${pad(wall.getUTCMinutes())}:${pad(wall.getUTCSeconds())}`;
}

/** Reads ECPay's yyyy/MM/dd HH:mm:ss (Taiwan time); null when it is not one. */
export function parseTaiwanDateTime(text: string | undefined): Date | null {
  const match = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(text ?? '');
  if (!match) return null;
  const [, y, mo, d, h, mi, s] = match.map(Number);
  const instant = new Date(Date.UTC(y, mo - 1, d, h - 8, mi, s));
  return Number.isNaN(instant.getTime()) ? null : instant;
}
