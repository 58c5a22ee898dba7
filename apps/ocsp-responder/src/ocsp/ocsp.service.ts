import { Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Pool } from 'pg';
import type { AppConfig, CaKeyRing, Clock, ReadinessCheck } from '@moica/platform';
import { CertificateStatusListener } from './certificate-status-listener';
import { LiveSigningBudget } from './live-signing-budget';
import { OcspMetrics } from './ocsp-metrics';
import { OcspResponder, type OcspAnswer } from './ocsp-responder';
import { OcspResponseCache } from './ocsp-response-cache';
import { OcspResponseRepository } from './ocsp-response.repository';
import { ReplicaLagMonitor } from './replica-lag-monitor';
import { ACTIVE_OCSP_SIGNERS_SQL, ocspSigningIdentity, type ActiveOcspSignerRow, type OcspSigningIdentity } from './ocsp-signing-identity';
import { OCSP_TRY_LATER } from '@moica/pki';

const HOUR_MS = 3_600_000;

/**
 * Wires the OCSP responder of this process: the delegated signers of the
 * CaKeyRing, a pg pool on DATABASE_READ_URL (or DATABASE_URL) for look-ups,
 * the LISTEN connection on DATABASE_URL, the cache and its warm-up, the
 * live-signature budget and the metrics. Until it is bootstrapped every
 * request is answered tryLater.
 */
export class OcspService implements OnApplicationBootstrap, OnApplicationShutdown, ReadinessCheck {
  readonly name = 'ocsp';
  readonly metrics: OcspMetrics;
  private readonly logger = new Logger('OcspResponder');
  private readonly pool: Pool;
  /**
   * The primary, for the rare reads that must not lag: the certificates of
   * a bare-id notice and the changes made while LISTEN was down (a replica
   * that lags behind would hand back the old status, and a stale cached
   * "good" would be served until its nextUpdate). The read pool itself when
   * there is no replica.
   */
  private readonly primary: Pool;
  /** With a replica: how far it is behind the primary, so notices outlive the lag (docs/operations.md). */
  private readonly replicaLag?: ReplicaLagMonitor;
  private readonly cache: OcspResponseCache;
  private readonly unknownCache: OcspResponseCache;
  private responder?: OcspResponder;
  private listener?: CertificateStatusListener;
  private warmedUp: 'not started' | 'warming' | 'done' | 'failed' = 'not started';
  private lastLogged = 0;
  private server?: { close(): Promise<unknown> };

  constructor(
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly signers: CaKeyRing,
  ) {
    this.pool = new Pool({
      connectionString: config.DATABASE_READ_URL ?? config.DATABASE_URL,
      application_name: 'moica-ocsp-responder',
      max: 8,
      connectionTimeoutMillis: 2000,
      query_timeout: 2000,
      keepAlive: true,
    });
    // An idle connection dropped by a database restart: the pool reconnects on next use.
    this.pool.on('error', (error) => this.throttledLog('warn', 'OCSP database connection lost', error));
    this.primary = config.DATABASE_READ_URL
      ? new Pool({ connectionString: config.DATABASE_URL, application_name: 'moica-ocsp-responder-primary', max: 1, connectionTimeoutMillis: 5000 })
      : this.pool;
    if (this.primary !== this.pool) {
      this.primary.on('error', (error) => this.throttledLog('warn', 'OCSP primary connection lost', error));
      this.replicaLag = new ReplicaLagMonitor(this.primary, this.pool);
    }
    this.cache = new OcspResponseCache(config.OCSP_CACHE_MAX_MB * 1024 * 1024);
    this.unknownCache = new OcspResponseCache(Math.min(64, config.OCSP_CACHE_MAX_MB / 8) * 1024 * 1024);
    this.metrics = new OcspMetrics(() => ({
      ocsp_cache_entries: this.cache.size,
      ocsp_cache_bytes: this.cache.byteSize,
      ocsp_unknown_cache_entries: this.unknownCache.size,
      ocsp_status_listener_connected: this.listener?.isListening ? 1 : 0,
      ocsp_cache_warmed: this.warmedUp === 'done' ? 1 : 0,
      // -1: no replica configured, or it cannot be measured right now
      ocsp_replica_lag_seconds: (this.replicaLag?.lagMs ?? -1000) / 1000,
    }));
  }

  /** The served CAs (for GET paths naming one). */
  get servedIssuers(): readonly OcspSigningIdentity[] {
    return this.responder?.servedIssuers ?? [];
  }

  answer(der: Uint8Array): OcspAnswer | Promise<OcspAnswer> {
    if (!this.responder) return { der: OCSP_TRY_LATER, result: 'tryLater' };
    return this.responder.answer(der);
  }

  async onApplicationBootstrap(): Promise<void> {
    const { rows } = await this.pool.query<ActiveOcspSignerRow>(ACTIVE_OCSP_SIGNERS_SQL);
    const identities: OcspSigningIdentity[] = [];
    for (const row of rows) {
      const loaded = this.signers.get(row.signer_id);
      if (!loaded) continue; // the key ring says why (readiness)
      identities.push(ocspSigningIdentity(row, loaded.signer));
    }
    const responder = new OcspResponder({
      identities,
      cache: this.cache,
      unknownCache: this.unknownCache,
      repository: new OcspResponseRepository(this.pool),
      budget: new LiveSigningBudget(this.config.OCSP_LIVE_SIGNATURES_PER_SECOND),
      metrics: this.metrics,
      now: () => this.clock.now(),
      validityMs: this.config.OCSP_RESPONSE_VALIDITY_HOURS * HOUR_MS,
      maxCertIds: this.config.OCSP_MAX_CERT_IDS,
      log: (level, message, error) => this.throttledLog(level, message, error),
      noticeExtensionMs: this.replicaLag ? () => (this.replicaLag?.lagMs ?? 0) + 2 * (this.replicaLag?.intervalMs ?? 0) : undefined,
      // A replica behind by more than two samples, or notices possibly missed: "not found" may be "not replayed yet".
      readsAreCurrent: this.replicaLag
        ? () => this.listener?.isListening === true && (this.replicaLag?.lagMs ?? Infinity) <= 2 * (this.replicaLag?.intervalMs ?? 0)
        : undefined,
    });
    this.responder = responder;
    this.replicaLag?.start();
    this.listener = new CertificateStatusListener({
      databaseUrl: this.config.DATABASE_URL,
      onNotice: (notice) => {
        this.metrics.notifications++;
        responder.applyNotice(notice);
      },
      onCertificateId: (id) => {
        this.metrics.notifications++;
        void this.applyChangedCertificate(responder, id);
      },
      onGap: (since) => this.replayGap(responder, since),
      log: (level, message, error) => this.throttledLog(level, message, error),
    });
    await this.listener.start();
    this.logger.log(`OCSP responder for ${identities.map((identity) => identity.caName).join(', ') || 'no CA'}`);
    void this.warmUp(responder);
  }

  /** The OCSP server (ocsp-http.ts) closes when the Nest app does (SIGTERM, SIGINT). */
  closeWithApp(server: { close(): Promise<unknown> }): void {
    this.server = server;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.server?.close().catch(() => undefined);
    await this.listener?.stop();
    this.replicaLag?.stop();
    await this.pool.end().catch(() => undefined);
    if (this.primary !== this.pool) await this.primary.end().catch(() => undefined);
  }

  async check(): Promise<string> {
    if (!this.responder) throw new Error('not started');
    if (this.responder.servedIssuers.length === 0) throw new Error('no OCSP signer loaded');
    const lag = this.replicaLag ? `, replica ${this.replicaLag.lagMs === undefined ? 'lag unknown' : `${Math.round(this.replicaLag.lagMs)} ms behind`}` : '';
    return `${this.responder.servedIssuers.length} CA(s), cache ${this.warmedUp} (${this.cache.size} responses), notifications ${this.listener?.isListening ? 'on' : 'reconnecting'}${lag}`;
  }

  private async warmUp(responder: OcspResponder): Promise<void> {
    this.warmedUp = 'warming';
    const started = performance.now();
    try {
      const loaded = await responder.warmUp();
      this.warmedUp = 'done';
      this.logger.log(`OCSP cache warmed: ${loaded} responses, ${Math.round(this.cache.byteSize / 1048576)} MiB in ${Math.round(performance.now() - started)} ms`);
    } catch (error) {
      this.warmedUp = 'failed';
      this.throttledLog('warn', 'OCSP cache warm-up failed; answering from PostgreSQL', error);
    }
  }

  /** A notice that carries only the certificate id: read its status on the primary (a replica may not have it yet). */
  private async applyChangedCertificate(responder: OcspResponder, id: string): Promise<void> {
    try {
      const { rows } = await this.primary.query<{ id: string; ca: string; serial: string; status: string; revoked_at: Date | null; reason: number | null }>(
        `SELECT id, ca_id AS ca, encode(serial, 'hex') AS serial, status, revoked_at, revocation_reason AS reason FROM certificate WHERE id = $1`,
        [id],
      );
      for (const row of rows) responder.applyNotice({ ...row, revokedAt: row.revoked_at?.toISOString() ?? null });
    } catch (error) {
      this.throttledLog('warn', `could not read the status of changed certificate ${id}`, error);
    }
  }

  /**
   * Notices missed while LISTEN was down: re-apply every change since then
   * (status_changed_at, with a margin), read on the primary where LISTEN
   * just reconnected: the replica may still be catching up after the same
   * outage (issue 11, docs/operations.md).
   */
  private async replayGap(responder: OcspResponder, sinceRealMs: number): Promise<void> {
    const since = new Date(this.clock.now().getTime() - (Date.now() - sinceRealMs) - 5 * 60_000);
    const { rows } = await this.primary.query<{ id: string; ca: string; serial: string; status: string; revoked_at: Date | null; reason: number | null }>(
      `SELECT id, ca_id AS ca, encode(serial, 'hex') AS serial, status, revoked_at, revocation_reason AS reason
         FROM certificate WHERE status_changed_at >= $1`,
      [since],
    );
    for (const row of rows) {
      responder.applyNotice({ ...row, revokedAt: row.revoked_at?.toISOString() ?? null });
    }
    this.logger.log(`re-applied ${rows.length} status change(s) made while notifications were down`);
  }

  private throttledLog(level: 'info' | 'warn' | 'error', message: string, error?: unknown): void {
    const now = Date.now();
    if (level !== 'info' && now - this.lastLogged < 5000) return;
    this.lastLogged = now;
    const detail = error instanceof Error ? `${message}: ${error.message}` : message;
    if (level === 'error') this.logger.error(detail);
    else if (level === 'warn') this.logger.warn(detail);
    else this.logger.log(detail);
  }
}
