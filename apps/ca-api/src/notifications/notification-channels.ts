/**
 * The two ways the CA reaches a holder (DOMAIN.md "Notices": important
 * notices to the contact e-mail, verification codes by SMS). The worker
 * delivers notices through them and ca-api sends verification codes through
 * them; SMTP (smtp-email.channel.ts) and an HTTP SMS gateway
 * (sms-gateway.channel.ts) implement them.
 */
export interface EmailMessage {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  /**
   * A stable identifier of this message (e.g. `notice-42`): it becomes the
   * Message-ID, so a message re-sent after a crash between the server's
   * acceptance and our record can be recognised as the same one.
   */
  readonly idempotencyKey: string;
}

export interface SmsMessage {
  /** Taiwan mobile number, 09xxxxxxxx (libs/policy checkMobileNumber normalises it). */
  readonly to: string;
  readonly text: string;
  /** A stable identifier (≤ 36 characters): passed to the gateway, which drops a repeated one. */
  readonly idempotencyKey: string;
}

/** What the server or gateway said when it accepted a message. */
export interface DeliveryReceipt {
  readonly providerMessageId: string | null;
}

/**
 * A refused delivery. `permanent`: retrying cannot help (the server rejected
 * the address with a 5xx, the gateway says the number is invalid); otherwise
 * the worker retries with backoff.
 */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DeliveryError';
  }
}

export interface NotificationChannels {
  sendEmail(message: EmailMessage): Promise<DeliveryReceipt>;
  sendSms(message: SmsMessage): Promise<DeliveryReceipt>;
}

/** A single channel's transport. */
export interface EmailTransport {
  send(message: EmailMessage): Promise<DeliveryReceipt>;
  close(): void;
}

export interface SmsTransport {
  send(message: SmsMessage): Promise<DeliveryReceipt>;
}

/**
 * NotificationChannels over the configured transports. A channel without a
 * transport (development without SMTP_URL / SMS_GATEWAY_URL) refuses with a
 * transient DeliveryError; the worker does not even take its jobs
 * (worker.ts), so its notices stay pending until it is configured.
 */
export class TransportNotificationChannels implements NotificationChannels {
  constructor(
    private readonly email: EmailTransport | null,
    private readonly sms: SmsTransport | null,
  ) {}

  /** Which channels can deliver. */
  get configured(): { email: boolean; sms: boolean } {
    return { email: this.email !== null, sms: this.sms !== null };
  }

  sendEmail(message: EmailMessage): Promise<DeliveryReceipt> {
    if (!this.email) return Promise.reject(new DeliveryError('e-mail is not configured (SMTP_URL)', false));
    return this.email.send(message);
  }

  sendSms(message: SmsMessage): Promise<DeliveryReceipt> {
    if (!this.sms) return Promise.reject(new DeliveryError('SMS is not configured (SMS_GATEWAY_URL)', false));
    return this.sms.send(message);
  }

  close(): void {
    this.email?.close();
  }
}
