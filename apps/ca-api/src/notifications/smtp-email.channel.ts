import nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';
import { redactAddresses } from './redact';
import { DeliveryError, type DeliveryReceipt, type EmailMessage, type EmailTransport } from './notification-channels';

export interface SmtpEmailOptions {
  /** nodemailer connection URL: smtp://user:pass@host:587 (STARTTLS when offered) or smtps://...:465. */
  readonly url: string;
  /** The From header: `"內政部憑證管理中心 MOICA" <noreply@example.gov.tw>`. */
  readonly from: string;
  /** Seconds to wait for the server at each step. */
  readonly timeoutSeconds?: number;
}

/**
 * E-mail over SMTP with nodemailer (RFC 5321). A 5xx reply (RFC 5321 §4.2.1:
 * permanent negative completion, e.g. 550 unknown mailbox) is a permanent
 * failure; a 4xx reply, a timeout or a refused connection is transient and
 * retried by the worker.
 */
export class SmtpEmailChannel implements EmailTransport {
  private readonly transporter: Transporter;
  private readonly domain: string;

  constructor(private readonly options: SmtpEmailOptions) {
    const timeout = (options.timeoutSeconds ?? 30) * 1000;
    this.transporter = nodemailer.createTransport(options.url, {
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
    } as Parameters<typeof nodemailer.createTransport>[1]);
    this.domain = /@([^>\s]+)>?\s*$/.exec(options.from)?.[1] ?? 'moica.invalid';
  }

  async send(message: EmailMessage): Promise<DeliveryReceipt> {
    try {
      const info = await this.transporter.sendMail({
        from: this.options.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        messageId: `<${message.idempotencyKey}@${this.domain}>`,
        headers: { 'Auto-Submitted': 'auto-generated' }, // RFC 3834 §5: no auto-replies to us
      });
      return { providerMessageId: typeof info.messageId === 'string' ? info.messageId : null };
    } catch (cause) {
      const code = (cause as { responseCode?: number }).responseCode;
      const permanent = typeof code === 'number' && code >= 500 && code < 600;
      const reason = code ? `SMTP ${code}` : ((cause as { code?: string }).code ?? 'SMTP error');
      // The server's text may quote the address: keep addresses out of logs and operator views.
      throw new DeliveryError(`e-mail refused: ${reason}: ${redactAddresses((cause as Error).message)}`, permanent);
    }
  }

  close(): void {
    this.transporter.close();
  }
}
