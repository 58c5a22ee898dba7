/**
 * A payment provider for re-issuance orders (docs/reissuance.md): it builds
 * the hosted page the holder's browser is sent to (ATM transfer or credit
 * card), and it reads the provider's signed notifications. Nothing here
 * touches the database: the order service decides what a notification does.
 */

export type PaymentMethod = 'atm' | 'credit_card';

/** What the order service gives the provider to start a payment. */
export interface CheckoutOrder {
  /** The order's number at the provider (MerchantTradeNo), unique, at most 20 letters and digits. */
  orderNumber: string;
  amountNtd: number;
  method: PaymentMethod;
  orderedAt: Date;
  paymentDeadline: Date;
}

/** A form the browser posts to the provider's hosted payment page. */
export interface CheckoutForm {
  action: string;
  method: 'POST';
  fields: Record<string, string>;
}

/** A notification whose signature verified. */
export type PaymentNotification =
  | {
      kind: 'atm-account-assigned';
      orderNumber: string;
      providerTradeNo: string;
      amountNtd: number;
      bankCode: string;
      virtualAccount: string;
      raw: Record<string, string>;
    }
  | {
      kind: 'payment';
      orderNumber: string;
      providerTradeNo: string;
      amountNtd: number;
      /** false when the provider reports a failed payment (a declined card). */
      succeeded: boolean;
      paidAt: Date;
      method: PaymentMethod | 'other';
      raw: Record<string, string>;
    };

export class PaymentNotificationRejected extends Error {
  constructor(readonly code: 'signature-invalid' | 'merchant-mismatch' | 'malformed', detail: string) {
    super(detail);
  }
}

export interface PaymentGateway {
  readonly provider: string;
  checkout(order: CheckoutOrder): CheckoutForm;
  /** Verifies and reads a notification; throws PaymentNotificationRejected when it is not the provider's. */
  readNotification(fields: Record<string, string>): PaymentNotification;
  /** The body the provider expects back once a notification is recorded. */
  readonly acknowledgement: string;
}
