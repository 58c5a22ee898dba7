import { createHash } from 'node:crypto';
import {
  OCSP_MALFORMED_REQUEST,
  OCSP_TRY_LATER,
  OCSP_UNAUTHORIZED,
  crlReasonCode,
  crlReasonFromCode,
  encodeSingleResponse,
  parseOcspRequest,
  type OcspCertIdRequest,
  type OcspCertStatus,
} from '@moica/pki';
import type { CertificateStatusNotice } from '../../../../db/certificate-status-change';
import { ocspStatusOf } from './certificate-status';
import type { LiveSigningBudget } from './live-signing-budget';
import type { OcspMetrics, OcspResult } from './ocsp-metrics';
import { magnitudeOf } from './ocsp-presigner';
import type { CachedResponse, CachedStatus, OcspResponseCache } from './ocsp-response-cache';
import type { CertificateWithResponse, OcspResponseRepository } from './ocsp-response.repository';
import type { OcspSigningIdentity } from './ocsp-signing-identity';

/** What goes back to the client: the DER body, the result for metrics, and the response to take caching headers from. */
export interface OcspAnswer {
  der: Uint8Array;
  result: OcspResult;
  /** A shared response (RFC 5019 §6.2 headers); absent for nonced and error responses (not cacheable). */
  cacheable?: CachedResponse;
}

export interface OcspResponderOptions {
  identities: readonly OcspSigningIdentity[];
  cache: OcspResponseCache;
  /** Live-signed `unknown` answers, kept apart so a flood of random serials cannot evict real ones. */
  unknownCache: OcspResponseCache;
  repository: OcspResponseRepository;
  budget: LiveSigningBudget;
  metrics: OcspMetrics;
  now: () => Date;
  /** Validity of live-signed responses (OCSP_RESPONSE_VALIDITY_HOURS). */
  validityMs: number;
  /** OCSP_MAX_CERT_IDS. */
  maxCertIds: number;
  /** How long an announced status wins over what PostgreSQL (maybe a lagging replica) says. */
  noticeWindowMs?: number;
  /**
   * How long after its arrival a notice must still win because the read
   * replica may not have replayed it yet (ReplicaLagMonitor: lag plus one
   * sampling interval); a notice stays active for the longer of this and
   * `noticeWindowMs`. Absent without a replica.
   */
  noticeExtensionMs?: () => number;
  /**
   * False while a certificate missing from the read database may exist all
   * the same: the replica lags, or notices may have been missed (LISTEN
   * reconnecting). Then a serial that is not found is answered tryLater,
   * not a signed (and cached) "unknown". Absent without a replica.
   */
  readsAreCurrent?: () => boolean;
  log?: (level: 'warn' | 'error', message: string, error?: unknown) => void;
}

interface PendingNotice {
  status: OcspCertStatus;
  at: number;
  until: number;
}

const ANSWER_MALFORMED: OcspAnswer = { der: OCSP_MALFORMED_REQUEST, result: 'malformedRequest' };
const ANSWER_UNAUTHORIZED: OcspAnswer = { der: OCSP_UNAUTHORIZED, result: 'unauthorized' };
const ANSWER_TRY_LATER: OcspAnswer = { der: OCSP_TRY_LATER, result: 'tryLater' };
/** `unknown` answers live shorter than real ones: the serial may be issued soon. */
const UNKNOWN_VALIDITY_MS = 3_600_000;

/**
 * The OCSP responder (RFC 6960, RFC 5019) as Boulder's chain of sources,
 * flattened so that the common case is synchronous:
 *
 *   parse -> issuer filter (unauthorized) -> in-memory cache -> PostgreSQL
 *   (stored pre-signed response, else the certificate's status) -> live
 *   signer (rate-limited) -> tryLater.
 *
 * A cache hit costs a parse and a Map look-up, no promise and no signature.
 * Status changes arrive as notices (LISTEN certificate_status) and win over
 * both the cache and PostgreSQL for `noticeWindowMs`.
 */
export class OcspResponder {
  private readonly identities: readonly OcspSigningIdentity[];
  private readonly notices = new Map<string, PendingNotice>();
  private readonly inFlight = new Map<string, Promise<OcspAnswer>>();
  private readonly marginMs: number;
  private readonly noticeWindowMs: number;

  constructor(private readonly options: OcspResponderOptions) {
    this.identities = options.identities;
    // Re-read a stored response when less than 1/8 of its validity is left (the worker re-signs at 1/2).
    this.marginMs = Math.floor(options.validityMs / 8);
    this.noticeWindowMs = options.noticeWindowMs ?? 60_000;
  }

  get servedIssuers(): readonly OcspSigningIdentity[] {
    return this.identities;
  }

  /** Answers one DER OCSPRequest. Synchronous for a cache hit, a promise otherwise. Never throws. */
  answer(requestDer: Uint8Array): OcspAnswer | Promise<OcspAnswer> {
    const parsed = parseOcspRequest(requestDer, { maxEntries: this.options.maxCertIds });
    if (!parsed.ok) return ANSWER_MALFORMED;
    const { requests, nonce } = parsed.request;
    const identity = this.issuerOf(requests[0]);
    if (!identity) return ANSWER_UNAUTHORIZED;
    for (let i = 1; i < requests.length; i++) {
      // One response has one responder: CertIDs of several CAs cannot be answered together.
      if (this.issuerOf(requests[i]) !== identity) return ANSWER_UNAUTHORIZED;
    }
    if (requests.length === 1 && nonce === undefined) return this.single(identity, requests[0]);
    if (this.takeLiveSignature('optional')) return this.signLive(identity, requests, nonce);
    // RFC 8954 §2.1: a responder may leave the nonce out; the client then relies on the response's times.
    if (requests.length === 1) return this.single(identity, requests[0]);
    return ANSWER_TRY_LATER;
  }

  /** Applies a committed status change: drop cached answers, and answer from the notice for a while. */
  applyNotice(notice: CertificateStatusNotice): void {
    const identity = this.identities.find((candidate) => candidate.caId === notice.ca);
    if (!identity) return;
    const serialHex = magnitudeHex(notice.serial);
    const nowMs = this.options.now().getTime();
    const status = ocspStatusOf({
      status: notice.status,
      revoked_at: notice.revokedAt ? new Date(notice.revokedAt) : null,
      revocation_reason: notice.reason,
    });
    this.notices.set(`${notice.ca}/${serialHex}`, { status, at: performance.now(), until: nowMs + this.noticeWindowMs });
    this.options.cache.delete(notice.ca, serialHex);
    this.options.unknownCache.delete(notice.ca, serialHex);
    if (this.notices.size > 100_000) this.pruneNotices(nowMs);
  }

  /**
   * Loads stored responses into the cache until it is 85% full, in
   * primary-key pages over 16 ranges of certificate ids (uuids are random,
   * so the ranges are even), `parallel` ranges at a time. Returns how many.
   */
  async warmUp(pageSize = 2000, parallel = 4): Promise<number> {
    const ranges = Array.from({ length: 16 }, (_, i) => i);
    let loaded = 0;
    const worker = async () => {
      for (let range = ranges.shift(); range !== undefined; range = ranges.shift()) {
        const count = await this.warmRange(range, pageSize); // not `loaded += await`: the ranges run concurrently
        loaded += count;
        if (this.options.cache.byteSize > 0.85 * this.options.cache.maxBytesValue) return;
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
    return loaded;
  }

  private async warmRange(range: number, pageSize: number): Promise<number> {
    const full = this.options.cache;
    const digit = range.toString(16);
    const end = range === 15 ? undefined : `${(range + 1).toString(16)}0000000-0000-0000-0000-000000000000`;
    let cursor = { id: `${digit}0000000-0000-0000-0000-000000000000`, algorithm: '' };
    let loaded = 0;
    for (;;) {
      const started = performance.now();
      let rows;
      for (let attempt = 1; ; attempt++) {
        try {
          rows = await this.options.repository.page(cursor, this.options.now(), pageSize, end);
          break;
        } catch (error) {
          // A busy or restarting database: retry the same page a few times, then give up (misses go to PostgreSQL).
          if (attempt === 5) throw error;
          await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
        }
      }
      if (rows.length === 0) return loaded;
      for (const row of rows) {
        const serialHex = Buffer.from(magnitudeOf(row.serial)).toString('hex');
        if (this.noticedSince(row.ca_id, serialHex, started)) continue;
        full.set(row.ca_id, row.hash_algorithm, serialHex, {
          der: row.der,
          thisUpdate: row.this_update.getTime(),
          nextUpdate: row.next_update.getTime(),
          status: cachedStatusOf(ocspStatusOf(row)),
        });
        loaded++;
      }
      const last = rows[rows.length - 1];
      cursor = { id: last.certificate_id, algorithm: last.hash_algorithm };
      if (full.byteSize > 0.85 * full.maxBytesValue) return loaded;
    }
  }

  /** The strong ETag of a cached response (RFC 5019 §6.2 suggests one), computed once. */
  static etagOf(entry: CachedResponse): string {
    if (!entry.etag) entry.etag = `"${createHash('sha1').update(entry.der).digest('base64url')}"`;
    return entry.etag;
  }

  private issuerOf(request: OcspCertIdRequest): OcspSigningIdentity | undefined {
    for (const identity of this.identities) {
      const hashes = identity.issuer.certIdHashes[request.hashAlgorithm];
      if (sameBytes(hashes.keyHash, request.issuerKeyHash) && sameBytes(hashes.nameHash, request.issuerNameHash)) return identity;
    }
    return undefined;
  }

  /** One CertID without a nonce: the pre-signed path. */
  private single(identity: OcspSigningIdentity, request: OcspCertIdRequest): OcspAnswer | Promise<OcspAnswer> {
    const nowMs = this.options.now().getTime();
    const metrics = this.options.metrics;
    const entry = this.options.cache.get(identity.caId, request.hashAlgorithm, request.serialHex, nowMs, this.marginMs);
    if (entry) {
      metrics.cacheHits++;
      return { der: entry.der, result: resultOf(entry.status), cacheable: entry };
    }
    const unknown = this.options.unknownCache.get(identity.caId, request.hashAlgorithm, request.serialHex, nowMs);
    if (unknown) {
      metrics.cacheHits++;
      return { der: unknown.der, result: 'unknown', cacheable: unknown };
    }
    metrics.cacheMisses++;
    const key = `${identity.caId}/${request.hashAlgorithm}/${request.serialHex}`;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.resolveMiss(identity, request).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private async resolveMiss(identity: OcspSigningIdentity, request: OcspCertIdRequest): Promise<OcspAnswer> {
    const now = this.options.now();
    const nowMs = now.getTime();
    const notice = this.activeNotice(identity.caId, request.serialHex, nowMs);
    if (notice) return this.signAndCache(identity, request, notice.status, now, 'needed');

    const started = performance.now();
    let record: CertificateWithResponse | undefined;
    try {
      this.options.metrics.databaseLookups++;
      record = await this.options.repository.findBySerial(identity.caId, request.serialNumber);
    } catch (error) {
      this.options.metrics.databaseErrors++;
      this.options.log?.('warn', 'OCSP look-up failed; answering from cache or tryLater', error);
      // RFC 5019 §6.2: a response is good until its nextUpdate, even inside the refresh margin.
      const stale = this.options.cache.get(identity.caId, request.hashAlgorithm, request.serialHex, nowMs);
      return stale ? { der: stale.der, result: resultOf(stale.status), cacheable: stale } : ANSWER_TRY_LATER;
    }
    // A notice that arrived while we were reading wins over what we read.
    const late = this.activeNotice(identity.caId, request.serialHex, nowMs);
    if (late && late.at >= started) return this.signAndCache(identity, request, late.status, now, 'needed');

    if (!record) {
      if (this.options.readsAreCurrent?.() === false) return ANSWER_TRY_LATER;
      return this.signAndCache(identity, request, { status: 'unknown' }, now, 'optional');
    }
    const status = ocspStatusOf(record);
    if (request.hashAlgorithm === 'sha1' && record.der && record.this_update && record.next_update && record.next_update.getTime() > nowMs) {
      const entry: CachedResponse = {
        der: record.der,
        thisUpdate: record.this_update.getTime(),
        nextUpdate: record.next_update.getTime(),
        status: cachedStatusOf(status),
      };
      this.options.cache.set(identity.caId, 'sha1', request.serialHex, entry);
      return { der: entry.der, result: resultOf(entry.status), cacheable: entry };
    }
    // No usable stored response (SHA-256 CertID, new certificate not yet pre-signed, expired certificate).
    return this.signAndCache(identity, request, status, now, status.status === 'unknown' ? 'optional' : 'needed');
  }

  private async signAndCache(
    identity: OcspSigningIdentity,
    request: OcspCertIdRequest,
    status: OcspCertStatus,
    now: Date,
    tier: 'needed' | 'optional',
  ): Promise<OcspAnswer> {
    if (!this.takeLiveSignature(tier)) return ANSWER_TRY_LATER;
    const decidedAt = performance.now();
    const validity = status.status === 'unknown' ? Math.min(UNKNOWN_VALIDITY_MS, this.options.validityMs) : this.options.validityMs;
    const nextUpdate = new Date(now.getTime() + validity);
    let der: Uint8Array;
    try {
      const single = encodeSingleResponse({ certIdDer: request.certIdDer, certStatus: status, thisUpdate: now, nextUpdate });
      der = await identity.builder.build({ producedAt: now, singleResponses: [single] });
    } catch (error) {
      this.options.log?.('error', 'live OCSP signature failed', error);
      return ANSWER_TRY_LATER;
    }
    const entry: CachedResponse = {
      der: Buffer.from(der.buffer, der.byteOffset, der.length),
      thisUpdate: now.getTime(),
      nextUpdate: nextUpdate.getTime(),
      status: cachedStatusOf(status),
    };
    // A status change that arrived while we were signing (a resumption right after a suspension)
    // makes this answer old: it still answers this request, which began before the change, but
    // it is not cached, or it would be served instead of the new status until its nextUpdate.
    const newer = this.notices.get(`${identity.caId}/${request.serialHex}`);
    if (newer && newer.at > decidedAt) return { der: entry.der, result: resultOf(entry.status) };
    const cache = status.status === 'unknown' ? this.options.unknownCache : this.options.cache;
    cache.set(identity.caId, request.hashAlgorithm, request.serialHex, entry, true);
    return { der: entry.der, result: resultOf(entry.status), cacheable: entry };
  }

  /** Several CertIDs and/or a nonce: one freshly signed response (RFC 6960 §4.2.1, RFC 8954 §2.1). */
  private async signLive(identity: OcspSigningIdentity, requests: OcspCertIdRequest[], nonce: Uint8Array | undefined): Promise<OcspAnswer> {
    const now = this.options.now();
    const statuses: OcspCertStatus[] = [];
    for (const request of requests) {
      const status = await this.statusOf(identity, request, now.getTime());
      if (!status) return ANSWER_TRY_LATER;
      statuses.push(status);
    }
    const nextUpdate = new Date(now.getTime() + this.options.validityMs);
    try {
      const singleResponses = requests.map((request, i) =>
        encodeSingleResponse({
          certIdDer: request.certIdDer,
          certStatus: statuses[i],
          thisUpdate: now,
          nextUpdate: statuses[i].status === 'unknown' ? new Date(now.getTime() + Math.min(UNKNOWN_VALIDITY_MS, this.options.validityMs)) : nextUpdate,
        }),
      );
      const der = await identity.builder.build({ producedAt: now, singleResponses, nonce });
      return { der, result: requests.length === 1 ? resultOfStatus(statuses[0]) : worstOf(statuses) };
    } catch (error) {
      this.options.log?.('error', 'live OCSP signature failed', error);
      return ANSWER_TRY_LATER;
    }
  }

  /** The status of one certificate, from a notice, the cache or PostgreSQL; undefined when unreachable. */
  private async statusOf(identity: OcspSigningIdentity, request: OcspCertIdRequest, nowMs: number): Promise<OcspCertStatus | undefined> {
    const notice = this.activeNotice(identity.caId, request.serialHex, nowMs);
    if (notice) return notice.status;
    for (const algorithm of ['sha1', 'sha256'] as const) {
      const entry = this.options.cache.get(identity.caId, algorithm, request.serialHex, nowMs);
      if (entry) return statusOfCached(entry.status);
    }
    if (this.options.unknownCache.get(identity.caId, request.hashAlgorithm, request.serialHex, nowMs)) return { status: 'unknown' };
    try {
      this.options.metrics.databaseLookups++;
      const record = await this.options.repository.findBySerial(identity.caId, request.serialNumber);
      if (!record && this.options.readsAreCurrent?.() === false) return undefined;
      return record ? ocspStatusOf(record) : { status: 'unknown' };
    } catch (error) {
      this.options.metrics.databaseErrors++;
      this.options.log?.('warn', 'OCSP look-up failed', error);
      return undefined;
    }
  }

  private takeLiveSignature(tier: 'needed' | 'optional'): boolean {
    if (this.options.budget.take(tier)) {
      this.options.metrics.liveSignatures++;
      return true;
    }
    this.options.metrics.liveSignaturesRefused++;
    return false;
  }

  private activeNotice(caId: string, serialHex: string, nowMs: number): PendingNotice | undefined {
    if (this.notices.size === 0) return undefined;
    const notice = this.notices.get(`${caId}/${serialHex}`);
    if (!notice) return undefined;
    if (notice.until > nowMs) return notice;
    // The replica still lags behind the change (issue 11): keep answering from the notice.
    const extension = this.options.noticeExtensionMs?.() ?? 0;
    return performance.now() - notice.at < extension ? notice : undefined;
  }

  private noticedSince(caId: string, serialHex: string, since: number): boolean {
    if (this.notices.size === 0) return false;
    const notice = this.notices.get(`${caId}/${serialHex}`);
    return notice !== undefined && notice.at >= since;
  }

  private pruneNotices(nowMs: number): void {
    for (const [key, notice] of this.notices) if (notice.until <= nowMs) this.notices.delete(key);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function magnitudeHex(contentHex: string): string {
  return contentHex.length > 2 && contentHex.startsWith('00') ? contentHex.slice(2) : contentHex;
}

export function cachedStatusOf(status: OcspCertStatus): CachedStatus {
  switch (status.status) {
    case 'good':
      return { code: 0, revokedAt: 0, reason: -1 };
    case 'revoked':
      return { code: 1, revokedAt: status.revokedAt.getTime(), reason: status.reason === undefined ? -1 : crlReasonCode(status.reason) };
    default:
      return { code: 2, revokedAt: 0, reason: -1 };
  }
}

function statusOfCached(status: CachedStatus): OcspCertStatus {
  if (status.code === 0) return { status: 'good' };
  if (status.code === 2) return { status: 'unknown' };
  return { status: 'revoked', revokedAt: new Date(status.revokedAt), reason: status.reason < 0 ? undefined : crlReasonFromCode(status.reason) };
}

function resultOf(status: CachedStatus): OcspResult {
  return status.code === 0 ? 'good' : status.code === 1 ? 'revoked' : 'unknown';
}

function resultOfStatus(status: OcspCertStatus): OcspResult {
  return status.status;
}

function worstOf(statuses: OcspCertStatus[]): OcspResult {
  if (statuses.some((status) => status.status === 'revoked')) return 'revoked';
  if (statuses.some((status) => status.status === 'unknown')) return 'unknown';
  return 'good';
}

