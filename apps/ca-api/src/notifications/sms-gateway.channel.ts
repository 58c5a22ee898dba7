import { redactAddresses } from './redact';
import { DeliveryError, type DeliveryReceipt, type SmsMessage, type SmsTransport } from './notification-channels';

export interface SmsGatewayOptions {
  /** The gateway's send URL, e.g. https://smsapi.mitake.com.tw/api/mtk/SmSend?CharsetURL=UTF-8 */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly timeoutSeconds?: number;
  readonly fetch?: typeof fetch;
}

/**
 * SMS through an HTTP gateway, on the model of the HTTP APIs of Taiwan's SMS
 * providers (Mitake 三竹 `SmSend`; Every8d and others are alike): an HTTP
 * POST of form fields, answered by `key=value` lines.
 *
 * Request (application/x-www-form-urlencoded, UTF-8):
 *   username, password, dstaddr (09xxxxxxxx), smbody (the text),
 *   clientid (our idempotency key: the gateway drops a clientid it has seen,
 *   so a message re-sent after a crash is not delivered twice).
 * Answer: `msgid=...`, `statuscode=...` and, for a repeated clientid,
 * `Duplicate=Y` (accepted before: success).
 *
 * statuscode 0 (scheduled), 1, 2 (handed to the carrier), 4 (delivered): accepted.
 * 5 (bad content), 6 or v (bad number), u (empty text): permanent.
 * Anything else (account, system or parameter errors: *, a, b, e, r, s ...)
 * and HTTP errors: transient, so a credential or gateway problem fixed by an
 * operator within the retry period still lets the notice through.
 *
 * Another provider's API is another SmsTransport with its own mapping.
 */
export class SmsGatewayChannel implements SmsTransport {
  constructor(private readonly options: SmsGatewayOptions) {}

  async send(message: SmsMessage): Promise<DeliveryReceipt> {
    const body = new URLSearchParams({
      username: this.options.username,
      password: this.options.password,
      dstaddr: message.to,
      smbody: message.text,
      clientid: message.idempotencyKey.slice(0, 36),
    });
    let response: Response;
    try {
      response = await (this.options.fetch ?? fetch)(this.options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body,
        signal: AbortSignal.timeout((this.options.timeoutSeconds ?? 30) * 1000),
      });
    } catch (cause) {
      throw new DeliveryError(`SMS gateway unreachable: ${(cause as Error).message}`, false);
    }
    const text = await response.text().catch(() => '');
    if (!response.ok) {
      throw new DeliveryError(`SMS gateway answered HTTP ${response.status}`, false);
    }
    const fields = new Map<string, string>();
    for (const line of text.split(/\r?\n/)) {
      const at = line.indexOf('=');
      if (at > 0) fields.set(line.slice(0, at).trim().toLowerCase(), line.slice(at + 1).trim());
    }
    const msgid = fields.get('msgid') ?? null;
    if (fields.get('duplicate')?.toUpperCase() === 'Y') return { providerMessageId: msgid };
    const status = fields.get('statuscode');
    if (status === undefined) {
      throw new DeliveryError(`SMS gateway answer without statuscode: ${redactAddresses(text.slice(0, 200))}`, false);
    }
    if (['0', '1', '2', '4'].includes(status)) return { providerMessageId: msgid };
    const permanent = ['5', '6', 'v', 'u'].includes(status);
    throw new DeliveryError(`SMS gateway refused the message: statuscode ${status}`, permanent);
  }
}
