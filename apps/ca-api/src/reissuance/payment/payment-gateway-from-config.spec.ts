import { loadConfig } from '@moica/platform';
import { paymentGatewayFromConfig } from './payment-gateway-from-config';

const base = {
  DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/ca',
  PII_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
  PII_HMAC_KEY: Buffer.alloc(32, 2).toString('base64'),
};

describe('paymentGatewayFromConfig', () => {
  it('uses the ECPay stage merchant in development', () => {
    expect(paymentGatewayFromConfig(loadConfig(base)).provider).toBe('ecpay');
  });

  it.each([
    [{}, /must be the CA's own ECPay merchant in production/],
    [{ ECPAY_MERCHANT_ID: '3100001', ECPAY_HASH_KEY: 'A'.repeat(16), ECPAY_HASH_IV: 'B'.repeat(16) }, /ECPAY_CHECKOUT_URL must not be the ECPay stage/],
    [
      { ECPAY_MERCHANT_ID: '3100001', ECPAY_HASH_KEY: 'A'.repeat(16), ECPAY_HASH_IV: 'B'.repeat(16), ECPAY_CHECKOUT_URL: 'https://payment.ecpay.com.tw/Cashier/AioCheckOut/V5' },
      /PAYMENT_NOTIFY_BASE_URL must be https/,
    ],
  ])('refuses development settings in production: %p', (override, message) => {
    expect(() => paymentGatewayFromConfig(loadConfig({ ...base, NODE_ENV: 'production', ...override }))).toThrow(message);
  });

  it('accepts a real merchant in production', () => {
    const config = loadConfig({
      ...base,
      NODE_ENV: 'production',
      ECPAY_MERCHANT_ID: '3100001',
      ECPAY_HASH_KEY: 'A'.repeat(16),
      ECPAY_HASH_IV: 'B'.repeat(16),
      ECPAY_CHECKOUT_URL: 'https://payment.ecpay.com.tw/Cashier/AioCheckOut/V5',
      PAYMENT_NOTIFY_BASE_URL: 'https://ca.example.gov.tw',
    });
    const form = paymentGatewayFromConfig(config).checkout({
      orderNumber: 'RI000000000001',
      amountNtd: 250,
      method: 'atm',
      orderedAt: new Date('2034-01-15T02:00:00Z'),
      paymentDeadline: new Date('2034-01-18T15:59:59Z'),
    });
    expect(form.fields).toMatchObject({
      MerchantID: '3100001',
      MerchantTradeNo: 'RI000000000001',
      MerchantTradeDate: '2034/01/15 10:00:00',
      TotalAmount: '250',
      ChoosePayment: 'ATM',
      ExpireDate: '3',
      ReturnURL: 'https://ca.example.gov.tw/v1/payments/ecpay/return',
      PaymentInfoURL: 'https://ca.example.gov.tw/v1/payments/ecpay/payment-info',
      EncryptType: '1',
    });
    expect(form.fields.CheckMacValue).toMatch(/^[0-9A-F]{64}$/);
  });
});
