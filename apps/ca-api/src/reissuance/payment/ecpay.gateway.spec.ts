import { ecpayCheckMacValue } from './ecpay-check-mac';
import { EcpayGateway, parseTaiwanDateTime, taiwanDateTime } from './ecpay.gateway';
import { PaymentNotificationRejected } from './payment-gateway';

const settings = {
  merchantId: '3002607',
  hashKey: 'pwFHCqoQZGmho4w6',
  hashIV: 'EkRm7iFT261dpevs',
  checkoutUrl: 'https://payment-stage.ecpay.com.tw/Cashier/AioCheckOut/V5',
  notifyBaseUrl: 'https://ca.example.gov.tw',
};
const gateway = new EcpayGateway(settings);
const signed = (fields: Record<string, string>) => ({ ...fields, CheckMacValue: ecpayCheckMacValue(fields, settings) });
const base = { MerchantID: '3002607', MerchantTradeNo: 'RI000000000007', TradeNo: '2401160000001', TradeAmt: '250', StoreID: '' };

describe('EcpayGateway', () => {
  it('signs the checkout form it builds (the gateway would recompute the same CheckMacValue)', () => {
    const form = gateway.checkout({ orderNumber: 'RI000000000007', amountNtd: 250, method: 'credit_card', orderedAt: new Date('2034-01-15T17:30:00Z'), paymentDeadline: new Date('2034-01-19T15:59:59Z') });
    expect(form.fields).toMatchObject({ ChoosePayment: 'Credit', MerchantTradeDate: '2034/01/16 01:30:00', ReturnURL: 'https://ca.example.gov.tw/v1/payments/ecpay/return' });
    expect(form.fields.ExpireDate).toBeUndefined();
    expect(form.fields.CheckMacValue).toBe(ecpayCheckMacValue(form.fields, settings));
  });

  it.each([
    ['an ATM account assignment', { ...base, RtnCode: '2', PaymentType: 'ATM_TAISHIN', BankCode: '812', vAccount: '93002600000017', ExpireDate: '2034/01/19' }, { kind: 'atm-account-assigned', bankCode: '812', virtualAccount: '93002600000017' }],
    ['an ATM payment', { ...base, RtnCode: '1', PaymentType: 'ATM_TAISHIN', PaymentDate: '2034/01/17 12:00:00' }, { kind: 'payment', succeeded: true, method: 'atm', amountNtd: 250, paidAt: new Date('2034-01-17T04:00:00Z') }],
    ['a declined card', { ...base, RtnCode: '10100058', PaymentType: 'Credit_CreditCard', PaymentDate: '2034/01/17 12:00:00' }, { kind: 'payment', succeeded: false, method: 'credit_card' }],
  ])('reads %s', (_label, fields, expected) => {
    expect(gateway.readNotification(signed(fields))).toMatchObject({ orderNumber: 'RI000000000007', providerTradeNo: '2401160000001', ...expected });
  });

  it.each([
    ['an unsigned notification', { ...base, RtnCode: '1' }, 'signature-invalid'],
    ['another merchant', signed({ ...base, MerchantID: '2000132', RtnCode: '1' }), 'merchant-mismatch'],
    ['a negative amount', signed({ ...base, TradeAmt: '-250', RtnCode: '1' }), 'malformed'],
    ['a malformed virtual account', signed({ ...base, RtnCode: '2', BankCode: '812', vAccount: '12-34' }), 'malformed'],
  ])('refuses %s', (_label, fields, code) => {
    expect(() => gateway.readNotification(fields)).toThrow(PaymentNotificationRejected);
    try {
      gateway.readNotification(fields);
    } catch (error) {
      expect((error as PaymentNotificationRejected).code).toBe(code);
    }
  });

  it('writes and reads ECPay times in Taiwan time', () => {
    expect(taiwanDateTime(new Date('2034-12-31T16:00:00Z'))).toBe('2035/01/01 00:00:00');
    expect(parseTaiwanDateTime('2035/01/01 00:00:00')).toEqual(new Date('2034-12-31T16:00:00Z'));
    expect(parseTaiwanDateTime('2035-01-01 00:00:00')).toBeNull();
  });
});
