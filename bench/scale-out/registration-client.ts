import { randomBytes } from 'node:crypto';
import { applicationBody } from '../../test/support/ca-api-harness';
import { TestCard, validNationalId } from '../../test/support/card';

/**
 * A registration office's client as it should be written against ca-api
 * (docs/operations.md "Clients during a database restart"): every write
 * carries an Idempotency-Key chosen once per operation; a 503 (database
 * unavailable), a 409 "request in progress" or a dropped connection is
 * retried with the SAME key after Retry-After, so a retry can never apply
 * an operation twice. Counts what it saw.
 */
export interface ClientTally {
  acknowledged: number;
  refused4xx: number;
  unavailable503: number;
  inProgress409: number;
  networkErrors: number;
  /** Any 5xx other than 503: a bug. */
  serverErrors: number;
  replayed: number;
}

export function emptyTally(): ClientTally {
  return { acknowledged: 0, refused4xx: 0, unavailable503: 0, inProgress409: 0, networkErrors: 0, serverErrors: 0, replayed: 0 };
}

export interface WriteResult {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the API's JSON, read field by field by the callers
  body: any;
  attempts: number;
}

export class RegistrationClient {
  readonly tally = emptyTally();

  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly options: { maxRetryAfterSeconds?: number; giveUpAfterMs?: number } = {},
  ) {}

  /** One write, retried with the same Idempotency-Key until a final answer (2xx or a 4xx other than 409) or giveUpAfterMs. */
  async write(path: string, body: unknown, idempotencyKey = randomBytes(12).toString('hex')): Promise<WriteResult> {
    const deadline = Date.now() + (this.options.giveUpAfterMs ?? 180_000);
    for (let attempts = 1; ; attempts++) {
      let retryAfterSeconds = 1;
      try {
        const response = await fetch(`${this.baseUrl}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(60_000),
        });
        const text = await response.text();
        const parsed = text ? JSON.parse(text) : null;
        if (response.headers.get('idempotent-replayed') === 'true') this.tally.replayed++;
        if (response.status < 300) {
          this.tally.acknowledged++;
          return { status: response.status, body: parsed, attempts };
        }
        if (response.status === 503) this.tally.unavailable503++;
        else if (response.status === 409) this.tally.inProgress409++;
        else if (response.status >= 500) this.tally.serverErrors++;
        else {
          this.tally.refused4xx++;
          return { status: response.status, body: parsed, attempts };
        }
        if (response.status >= 500 && response.status !== 503) return { status: response.status, body: parsed, attempts };
        retryAfterSeconds = Number(response.headers.get('retry-after') ?? '1') || 1;
      } catch {
        this.tally.networkErrors++;
      }
      if (Date.now() > deadline) throw new Error(`${path}: no final answer after ${attempts} attempts`);
      const waitSeconds = Math.min(retryAfterSeconds, this.options.maxRetryAfterSeconds ?? 65);
      await new Promise((resolve) => setTimeout(resolve, waitSeconds * 1000));
    }
  }

  /** An in-person application for card `n` (P-256 card keys, a distinct national ID per n). */
  async apply(n: number, cardPrefix: string): Promise<{ cardNumber: string; certificates: Array<{ serial: string; status: string }>; status: number; attempts: number }> {
    const cardNumber = `${cardPrefix}${String(n).padStart(10, '0')}`;
    const card = await TestCard.create(cardNumber);
    const body = applicationBody(card, { signature: await card.csr('signature'), encryption: await card.csr('encryption') }, {
      applicant: { name: '林小華', nationalId: validNationalId(n), dateOfBirth: '1985-03-04', mobile: '0912345678', email: `holder${n}@example.tw` },
    });
    const result = await this.write('/v1/applications', body);
    const certificates = result.status === 201 ? (result.body.certificates as Array<{ serial: string; status: string }>) : [];
    return { cardNumber, certificates, status: result.status, attempts: result.attempts };
  }

  suspend(cardNumber: string): Promise<WriteResult> {
    return this.write(`/v1/cards/${cardNumber}/suspension`, {});
  }

  resume(cardNumber: string): Promise<WriteResult> {
    return this.write(`/v1/cards/${cardNumber}/resumption`, {});
  }

  revoke(cardNumber: string): Promise<WriteResult> {
    return this.write(`/v1/cards/${cardNumber}/revocation`, { ground: 'no-longer-needed' });
  }
}
