import { Client } from 'pg';
import {
  CERTIFICATE_STATUS_CHANNEL,
  parseCertificateStatusNotice,
  type CertificateStatusNotice,
} from '../../../../db/certificate-status-change';

export interface CertificateStatusListenerOptions {
  /** The primary (NOTIFY is not replicated to read replicas). */
  databaseUrl: string;
  onNotice: (notice: CertificateStatusNotice) => void;
  /** A bare certificate id as payload (an announcement made without announceStatusChange): read the rest. */
  onCertificateId?: (certificateId: string) => void;
  /**
   * After a reconnection: notices may have been missed while the connection
   * was down; the handler re-reads the changes since `since` (epoch ms).
   */
  onGap: (since: number) => Promise<void>;
  log: (level: 'info' | 'warn', message: string, error?: unknown) => void;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * LISTEN certificate_status (db/certificate-status-change.ts) on a
 * dedicated connection, reconnecting with back-off (0.5 s to 10 s) for as
 * long as the process lives: a database outage never stops the responder,
 * which keeps serving what its cache holds.
 */
export class CertificateStatusListener {
  private client?: Client;
  private stopped = false;
  private connected = false;
  private lostAt?: number;
  private retryDelay = 500;
  private timer?: NodeJS.Timeout;

  constructor(private readonly options: CertificateStatusListenerOptions) {}

  get isListening(): boolean {
    return this.connected;
  }

  /** Connects once (resolves either way); keeps reconnecting in the background. */
  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    this.connected = false;
    if (client) await client.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({ connectionString: this.options.databaseUrl, application_name: 'moica-ocsp-listener', keepAlive: true });
    this.client = client;
    client.on('notification', (message) => {
      if (message.channel !== CERTIFICATE_STATUS_CHANNEL) return;
      const notice = parseCertificateStatusNotice(message.payload);
      if (notice) this.options.onNotice(notice);
      else if (message.payload && UUID.test(message.payload)) this.options.onCertificateId?.(message.payload);
    });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${CERTIFICATE_STATUS_CHANNEL}`);
    } catch (error) {
      this.lost(client, error);
      return;
    }
    if (this.client !== client) return;
    this.connected = true;
    this.retryDelay = 500;
    if (this.lostAt !== undefined) {
      const since = this.lostAt;
      this.lostAt = undefined;
      this.options.log('info', 'status notifications resumed; re-reading changes made meanwhile');
      try {
        await this.options.onGap(since);
      } catch (error) {
        this.options.log('warn', 'could not re-read the status changes of the gap', error);
      }
    }
  }

  private lost(client: Client, error?: unknown): void {
    if (this.client !== client || this.stopped) return;
    this.client = undefined;
    if (this.connected || this.lostAt === undefined) this.lostAt = this.lostAt ?? Date.now();
    this.connected = false;
    this.options.log('warn', `status notifications lost; reconnecting in ${this.retryDelay} ms`, error);
    client.removeAllListeners('end');
    client.on('error', () => undefined);
    client.end().catch(() => undefined);
    this.timer = setTimeout(() => void this.connect(), this.retryDelay);
    this.retryDelay = Math.min(this.retryDelay * 2, 10_000);
  }
}
