import type { AppConfig } from '@moica/platform';
import { EcpayGateway } from './ecpay.gateway';
import type { PaymentGateway } from './payment-gateway';

export const PAYMENT_GATEWAY = Symbol('PAYMENT_GATEWAY');

/** ECPay's published stage merchant: the development defaults of the configuration. */
const ECPAY_STAGE = { merchantId: '3002607', hashKey: 'pwFHCqoQZGmho4w6', hashIV: 'EkRm7iFT261dpevs' };

/**
 * The payment gateway of re-issuance orders from the validated configuration
 * (ECPay All-In-One). In production the stage merchant and the stage URL are
 * refused at boot: real payments need the CA's own merchant secrets.
 */
export function paymentGatewayFromConfig(config: AppConfig): PaymentGateway {
  if (config.NODE_ENV === 'production') {
    const problems: string[] = [];
    if (config.ECPAY_MERCHANT_ID === ECPAY_STAGE.merchantId || config.ECPAY_HASH_KEY === ECPAY_STAGE.hashKey || config.ECPAY_HASH_IV === ECPAY_STAGE.hashIV) {
      problems.push("ECPAY_MERCHANT_ID, ECPAY_HASH_KEY and ECPAY_HASH_IV must be the CA's own ECPay merchant in production");
    }
    if (/payment-stage\.ecpay\.com\.tw/.test(config.ECPAY_CHECKOUT_URL)) problems.push('ECPAY_CHECKOUT_URL must not be the ECPay stage in production');
    if (!config.PAYMENT_NOTIFY_BASE_URL.startsWith('https://')) problems.push('PAYMENT_NOTIFY_BASE_URL must be https in production');
    if (problems.length > 0) throw new Error(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
  return new EcpayGateway({
    merchantId: config.ECPAY_MERCHANT_ID,
    hashKey: config.ECPAY_HASH_KEY,
    hashIV: config.ECPAY_HASH_IV,
    checkoutUrl: config.ECPAY_CHECKOUT_URL,
    notifyBaseUrl: config.PAYMENT_NOTIFY_BASE_URL.replace(/\/+$/, ''),
  });
}
