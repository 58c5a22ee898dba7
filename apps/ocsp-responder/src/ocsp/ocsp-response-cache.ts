import type { CertIdHashAlgorithm } from '@moica/pki';

/** What the responder keeps of one signed response. */
export interface CachedResponse {
  /** The DER OCSPResponse, served as is. */
  der: Buffer;
  /** thisUpdate (= producedAt for ours), epoch ms: Last-Modified (RFC 5019 §6.2). */
  thisUpdate: number;
  /** nextUpdate, epoch ms: never served after it (RFC 5019 §6.2, §4). */
  nextUpdate: number;
  /** The status it states, so a nonced request can be answered without a database read. */
  status: CachedStatus;
  /** Strong ETag, computed on first use. */
  etag?: string;
  /** Last-Modified and Expires as HTTP dates, computed on first use (hot entries only pay the memory). */
  httpDates?: [string, string];
}

/** 0 good, 1 revoked (revokedAt ms, CRLReason code or -1), 2 unknown. */
export interface CachedStatus {
  code: 0 | 1 | 2;
  revokedAt: number;
  reason: number;
}

/** Rough per-entry overhead beyond the DER (Map slot, key string, objects), for the memory budget. */
const ENTRY_OVERHEAD = 200;

/**
 * The in-memory cache of signed responses, one Map per (issuer, CertID hash
 * algorithm) keyed by the serial's magnitude in hex, bounded in bytes. When
 * full, the oldest insertions go first (a FIFO: a hit costs no bookkeeping;
 * the evicted ones come back from PostgreSQL by primary key). Expired
 * entries are never returned.
 */
export class OcspResponseCache {
  private readonly maps = new Map<string, Map<string, CachedResponse>>();
  private bytes = 0;
  private entries = 0;

  constructor(private readonly maxBytes: number) {}

  private mapOf(caId: string, algorithm: CertIdHashAlgorithm): Map<string, CachedResponse> {
    const name = `${caId}/${algorithm}`;
    let map = this.maps.get(name);
    if (!map) this.maps.set(name, (map = new Map()));
    return map;
  }

  /** The entry, when present and still before its nextUpdate at `nowMs` (minus `marginMs`). */
  get(caId: string, algorithm: CertIdHashAlgorithm, serialHex: string, nowMs: number, marginMs = 0): CachedResponse | undefined {
    const entry = this.maps.get(`${caId}/${algorithm}`)?.get(serialHex);
    if (!entry) return undefined;
    if (entry.nextUpdate - marginMs <= nowMs) return undefined;
    return entry;
  }

  /** Adds or replaces; keeps the newer of two responses (by thisUpdate) unless `force`. */
  set(caId: string, algorithm: CertIdHashAlgorithm, serialHex: string, entry: CachedResponse, force = false): void {
    const map = this.mapOf(caId, algorithm);
    const old = map.get(serialHex);
    if (old) {
      if (!force && old.thisUpdate > entry.thisUpdate) return;
      map.delete(serialHex);
      this.bytes -= old.der.length + ENTRY_OVERHEAD;
      this.entries--;
    }
    map.set(serialHex, entry);
    this.bytes += entry.der.length + ENTRY_OVERHEAD;
    this.entries++;
    if (this.bytes > this.maxBytes) this.evict();
  }

  /** Forgets a certificate's responses (a status change). */
  delete(caId: string, serialHex: string): void {
    for (const algorithm of ['sha1', 'sha256'] as const) {
      const map = this.maps.get(`${caId}/${algorithm}`);
      const old = map?.get(serialHex);
      if (map && old) {
        map.delete(serialHex);
        this.bytes -= old.der.length + ENTRY_OVERHEAD;
        this.entries--;
      }
    }
  }

  clear(): void {
    this.maps.clear();
    this.bytes = 0;
    this.entries = 0;
  }

  get size(): number {
    return this.entries;
  }

  get maxBytesValue(): number {
    return this.maxBytes;
  }

  get byteSize(): number {
    return this.bytes;
  }

  /** Drops the oldest insertions until 90% of the budget. */
  private evict(): void {
    const target = this.maxBytes * 0.9;
    for (const map of this.maps.values()) {
      for (const [key, entry] of map) {
        if (this.bytes <= target) return;
        map.delete(key);
        this.bytes -= entry.der.length + ENTRY_OVERHEAD;
        this.entries--;
      }
    }
  }
}
