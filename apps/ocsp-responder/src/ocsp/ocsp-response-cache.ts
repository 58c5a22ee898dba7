import { createHash } from 'node:crypto';
import type { CertIdHashAlgorithm } from '@moica/pki';

/**
 * One signed response: what `set` takes, and what `get` returns (then a
 * short-lived view of the cache's off-heap copy, docs/ocsp.md "Cache and memory").
 */
export interface CachedResponse {
  /** The DER OCSPResponse, served as is. */
  der: Buffer;
  /** thisUpdate (= producedAt for ours), epoch ms: Last-Modified (RFC 5019 §6.2). */
  thisUpdate: number;
  /** nextUpdate, epoch ms: never served after it (RFC 5019 §6.2, §4). */
  nextUpdate: number;
  /** The status it states, so a nonced request can be answered without a database read. */
  status: CachedStatus;
  /** Strong ETag (RFC 5019 §6.2); a view from `get` computes it once per cached entry, on first use. */
  etag?: string;
}

/** 0 good, 1 revoked (revokedAt ms, CRLReason code or -1), 2 unknown. */
export interface CachedStatus {
  code: 0 | 1 | 2;
  revokedAt: number;
  reason: number;
}

/** Serial magnitudes longer than this are not cached (the request parser accepts up to 32 content octets). */
const MAX_SERIAL_OCTETS = 32;
const ETAG_OCTETS = 20; // SHA-1
const EMPTY = -1;
const TOMBSTONE = -2;
/** Table slots used (live + tombstones) before a rehash, as a fraction of the capacity. */
const MAX_LOAD = 0.75;
const MAX_SLAB_BYTES = 64 * 1024 * 1024;
const MIN_SLAB_BYTES = 4096;
const INITIAL_RECORDS = 64;

const GOOD: CachedStatus = Object.freeze({ code: 0, revokedAt: 0, reason: -1 });
const UNKNOWN: CachedStatus = Object.freeze({ code: 2, revokedAt: 0, reason: -1 });

/** A block of DER bytes, appended to and never overwritten; freed whole, oldest first. */
interface Slab {
  readonly seq: number;
  readonly bytes: Buffer;
  used: number;
  /** Record ids written here (some since replaced, deleted or reused: checked against the record's slab). */
  records: Int32Array;
  count: number;
}

/**
 * The in-memory cache of signed responses, bounded in bytes, kept off the V8
 * heap so that ten million entries cost the garbage collector nothing
 * (docs/ocsp.md "Cache and memory"):
 *
 * - the DER is appended into slabs (large Buffers, `maxBytes / 16`, at most
 *   64 MiB each) and never overwritten, so a Buffer handed out by `get` stays
 *   valid however long the socket takes to send it;
 * - each entry is a record in typed arrays (key, slab, offset, length,
 *   thisUpdate, nextUpdate, status, revokedAt, reason, ETag digest), indexed
 *   by an open-addressing table (linear probing, tombstones, rehash) keyed by
 *   (table of the CA and CertID hash algorithm, serial magnitude octets);
 * - when full, the oldest slab goes with every entry still in it (a FIFO, as
 *   before: a hit costs no bookkeeping; the evicted ones come back from
 *   PostgreSQL by primary key).
 *
 * `byteSize` is what the cache holds: every slab's whole size (bytes of
 * replaced or deleted entries included, until their slab goes) plus the typed
 * arrays. Expired entries are never returned.
 */
export class OcspResponseCache {
  private readonly slabBytes: number;
  /** caId -> [table id for sha1, for sha256]. */
  private tableIds = new Map<string, [number, number]>();
  private tables = 0;

  private slabs: Slab[] = [];
  private nextSlabSeq = 0;
  private heldSlabBytes = 0;

  // Records (struct of arrays), `recordCapacity` of them; free ids are chained through recordOffset.
  private recordCapacity = 0;
  private nextRecord = 0;
  private freeRecord = -1;
  private recordTable!: Uint8Array;
  private recordNibbles!: Uint8Array;
  private recordKey!: Uint8Array;
  private recordHash!: Int32Array;
  /** Slab sequence number, -1 when the record is free. */
  private recordSlab!: Int32Array;
  private recordOffset!: Uint32Array;
  private recordLength!: Uint32Array;
  private recordThisUpdate!: Float64Array;
  private recordNextUpdate!: Float64Array;
  private recordRevokedAt!: Float64Array;
  private recordCode!: Uint8Array;
  private recordReason!: Int8Array;
  private recordEtag!: Uint8Array;
  private recordEtagReady!: Uint8Array;

  // The index: slot -> record id, EMPTY or TOMBSTONE.
  private slots!: Int32Array;
  private mask = 0;
  private usedSlots = 0;
  private entries = 0;

  /** The key being looked up: serial magnitude, left-aligned, an odd number of hex digits left-padded with 0. */
  private readonly key = new Uint8Array(MAX_SERIAL_OCTETS);

  constructor(private readonly maxBytes: number) {
    this.slabBytes = Math.max(MIN_SLAB_BYTES, Math.min(MAX_SLAB_BYTES, Math.floor(maxBytes / 16)));
    this.reset();
  }

  /** The entry, when present and still before its nextUpdate at `nowMs` (minus `marginMs`). */
  get(caId: string, algorithm: CertIdHashAlgorithm, serialHex: string, nowMs: number, marginMs = 0): CachedResponse | undefined {
    const table = this.tableIds.get(caId)?.[algorithm === 'sha1' ? 0 : 1];
    if (table === undefined) return undefined;
    const nibbles = this.parseKey(serialHex);
    if (nibbles < 0) return undefined;
    const slot = this.find(table, nibbles, this.hashKey(table, nibbles));
    if (slot < 0) return undefined;
    const id = this.slots[slot];
    if (this.recordNextUpdate[id] - marginMs <= nowMs) return undefined;
    return this.viewOf(id);
  }

  /** Adds or replaces; keeps the newer of two responses (by thisUpdate) unless `force`. The DER is copied. */
  set(caId: string, algorithm: CertIdHashAlgorithm, serialHex: string, entry: CachedResponse, force = false): void {
    const nibbles = this.parseKey(serialHex);
    if (nibbles < 0) return; // not a serial we can key: not cached, answered from PostgreSQL each time
    const table = this.tableIdOf(caId, algorithm);
    const hash = this.hashKey(table, nibbles);
    let slot = this.find(table, nibbles, hash);
    if (slot >= 0 && !force && this.recordThisUpdate[this.slots[slot]] > entry.thisUpdate) return;

    const slab = this.append(entry.der); // may evict the oldest slabs, this key's entry among them
    slot = this.find(table, nibbles, hash);
    let id: number;
    if (slot >= 0) {
      id = this.slots[slot];
    } else {
      id = this.newRecord();
      this.reserveSlot();
      slot = this.freeSlot(hash);
      if (this.slots[slot] === EMPTY) this.usedSlots++;
      this.slots[slot] = id;
      this.entries++;
      this.recordTable[id] = table;
      this.recordNibbles[id] = nibbles;
      this.recordHash[id] = hash;
      this.recordKey.set(this.key.subarray(0, (nibbles + 1) >> 1), id * MAX_SERIAL_OCTETS);
    }
    this.recordSlab[id] = slab.seq;
    this.recordOffset[id] = slab.used - entry.der.length;
    this.recordLength[id] = entry.der.length;
    this.recordThisUpdate[id] = entry.thisUpdate;
    this.recordNextUpdate[id] = entry.nextUpdate;
    this.recordCode[id] = entry.status.code;
    this.recordRevokedAt[id] = entry.status.revokedAt;
    this.recordReason[id] = entry.status.reason;
    this.recordEtagReady[id] = 0;
    if (slab.count === slab.records.length) slab.records = grown(slab.records, slab.records.length * 2);
    slab.records[slab.count++] = id;
    // Growing the index may have taken the budget: drop old slabs, never the one just written.
    while (this.byteSize > this.maxBytes && this.slabs.length > 1) this.evictOldest();
  }

  /** Forgets a certificate's responses under both hash algorithms (a status change). */
  delete(caId: string, serialHex: string): void {
    const tables = this.tableIds.get(caId);
    const nibbles = this.parseKey(serialHex);
    if (!tables || nibbles < 0) return;
    for (const table of tables) {
      const slot = this.find(table, nibbles, this.hashKey(table, nibbles));
      if (slot >= 0) this.remove(slot);
    }
  }

  clear(): void {
    this.reset();
  }

  get size(): number {
    return this.entries;
  }

  get maxBytesValue(): number {
    return this.maxBytes;
  }

  /** Bytes held: the slabs (whole) and the index arrays. */
  get byteSize(): number {
    return this.heldSlabBytes + this.indexBytes();
  }

  /** The strong ETag of the entry `id` as of (`seq`, `offset`), from its digest computed once (RFC 5019 §6.2). */
  etagOf(id: number, seq: number, offset: number, der: Buffer): string {
    const at = id * ETAG_OCTETS;
    if (this.recordSlab[id] !== seq || this.recordOffset[id] !== offset) {
      return `"${createHash('sha1').update(der).digest('base64url')}"`; // replaced since: nothing to remember it in
    }
    if (this.recordEtagReady[id] === 0) {
      this.recordEtag.set(createHash('sha1').update(der).digest(), at);
      this.recordEtagReady[id] = 1;
    }
    return `"${Buffer.from(this.recordEtag.buffer, this.recordEtag.byteOffset + at, ETAG_OCTETS).toString('base64url')}"`;
  }

  private reset(): void {
    this.tableIds = new Map();
    this.tables = 0;
    this.slabs = [];
    this.heldSlabBytes = 0;
    this.recordCapacity = 0;
    this.nextRecord = 0;
    this.freeRecord = -1;
    this.growRecords(INITIAL_RECORDS);
    this.slots = new Int32Array(INITIAL_RECORDS * 2).fill(EMPTY);
    this.mask = this.slots.length - 1;
    this.usedSlots = 0;
    this.entries = 0;
  }

  private indexBytes(): number {
    // Per record: table 1, nibbles 1, key 32, hash 4, slab 4, offset 4, length 4, times 3 x 8, code 1, reason 1, ETag 20, ready 1.
    return this.recordCapacity * (MAX_SERIAL_OCTETS + ETAG_OCTETS + 69) + this.slots.byteLength;
  }

  private tableIdOf(caId: string, algorithm: CertIdHashAlgorithm): number {
    let tables = this.tableIds.get(caId);
    if (!tables) {
      if (this.tables + 2 > 256) throw new Error(`OCSP response cache: more than 128 CAs (adding ${caId})`);
      tables = [this.tables, this.tables + 1];
      this.tables += 2;
      this.tableIds.set(caId, tables);
    }
    return tables[algorithm === 'sha1' ? 0 : 1];
  }

  /** Decodes `serialHex` into `this.key`; the number of hex digits, or -1 when empty, too long or not hex. */
  private parseKey(serialHex: string): number {
    const nibbles = serialHex.length;
    if (nibbles === 0 || nibbles > MAX_SERIAL_OCTETS * 2) return -1;
    const key = this.key;
    let octet = 0;
    // An odd count starts with a lone low nibble, so '1' and '01' stay distinct keys (their digit counts differ).
    for (let i = nibbles & 1 ? -1 : 0; i < nibbles; i += 2) {
      const high = i < 0 ? 0 : hexValue(serialHex.charCodeAt(i));
      const low = hexValue(serialHex.charCodeAt(i + 1));
      if ((high | low) < 0) return -1;
      key[octet++] = (high << 4) | low;
    }
    return nibbles;
  }

  /** A 32-bit hash of (table, digit count, key octets): FNV-1a, then a murmur3 finaliser for the low bits. */
  private hashKey(table: number, nibbles: number): number {
    let hash = Math.imul(0x811c9dc5 ^ table, 0x01000193);
    hash = Math.imul(hash ^ nibbles, 0x01000193);
    const key = this.key;
    for (let i = 0, n = (nibbles + 1) >> 1; i < n; i++) hash = Math.imul(hash ^ key[i], 0x01000193);
    hash ^= hash >>> 16;
    hash = Math.imul(hash, 0x85ebca6b);
    hash ^= hash >>> 13;
    hash = Math.imul(hash, 0xc2b2ae35);
    return hash ^ (hash >>> 16);
  }

  /** The slot holding the key in `this.key`, or -1. */
  private find(table: number, nibbles: number, hash: number): number {
    const slots = this.slots;
    const mask = this.mask;
    const octets = (nibbles + 1) >> 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const id = slots[slot];
      if (id === EMPTY) return -1;
      if (id >= 0 && this.recordHash[id] === hash && this.recordTable[id] === table && this.recordNibbles[id] === nibbles && this.sameKey(id, octets)) {
        return slot;
      }
    }
  }

  private sameKey(id: number, octets: number): boolean {
    const stored = this.recordKey;
    const key = this.key;
    const base = id * MAX_SERIAL_OCTETS;
    for (let i = 0; i < octets; i++) if (stored[base + i] !== key[i]) return false;
    return true;
  }

  /** The first empty or tombstone slot on `hash`'s probe sequence (the key is known to be absent). */
  private freeSlot(hash: number): number {
    let slot = hash & this.mask;
    while (this.slots[slot] >= 0) slot = (slot + 1) & this.mask;
    return slot;
  }

  /** Makes room for one more slot in use: a rehash, at twice the capacity when live entries need it. */
  private reserveSlot(): void {
    const capacity = this.slots.length;
    if (this.usedSlots + 1 <= capacity * MAX_LOAD) return;
    this.rehash(this.entries + 1 > capacity * (MAX_LOAD / 2) ? capacity * 2 : capacity);
  }

  private rehash(capacity: number): void {
    const old = this.slots;
    this.slots = new Int32Array(capacity).fill(EMPTY);
    this.mask = capacity - 1;
    for (const id of old) {
      if (id < 0) continue;
      let slot = this.recordHash[id] & this.mask;
      while (this.slots[slot] !== EMPTY) slot = (slot + 1) & this.mask;
      this.slots[slot] = id;
    }
    this.usedSlots = this.entries;
  }

  private remove(slot: number): void {
    const id = this.slots[slot];
    this.slots[slot] = TOMBSTONE;
    this.recordSlab[id] = -1;
    this.recordOffset[id] = this.freeRecord;
    this.freeRecord = id;
    this.entries--;
  }

  private newRecord(): number {
    if (this.freeRecord >= 0) {
      const id = this.freeRecord;
      this.freeRecord = this.recordOffset[id] === 0xffffffff ? -1 : this.recordOffset[id];
      return id;
    }
    if (this.nextRecord === this.recordCapacity) this.growRecords(this.recordCapacity * 2);
    return this.nextRecord++;
  }

  private growRecords(capacity: number): void {
    const fresh = this.recordCapacity === 0;
    this.recordTable = fresh ? new Uint8Array(capacity) : grown(this.recordTable, capacity);
    this.recordNibbles = fresh ? new Uint8Array(capacity) : grown(this.recordNibbles, capacity);
    this.recordKey = fresh ? new Uint8Array(capacity * MAX_SERIAL_OCTETS) : grown(this.recordKey, capacity * MAX_SERIAL_OCTETS);
    this.recordHash = fresh ? new Int32Array(capacity) : grown(this.recordHash, capacity);
    this.recordSlab = fresh ? new Int32Array(capacity) : grown(this.recordSlab, capacity);
    this.recordOffset = fresh ? new Uint32Array(capacity) : grown(this.recordOffset, capacity);
    this.recordLength = fresh ? new Uint32Array(capacity) : grown(this.recordLength, capacity);
    this.recordThisUpdate = fresh ? new Float64Array(capacity) : grown(this.recordThisUpdate, capacity);
    this.recordNextUpdate = fresh ? new Float64Array(capacity) : grown(this.recordNextUpdate, capacity);
    this.recordRevokedAt = fresh ? new Float64Array(capacity) : grown(this.recordRevokedAt, capacity);
    this.recordCode = fresh ? new Uint8Array(capacity) : grown(this.recordCode, capacity);
    this.recordReason = fresh ? new Int8Array(capacity) : grown(this.recordReason, capacity);
    this.recordEtag = fresh ? new Uint8Array(capacity * ETAG_OCTETS) : grown(this.recordEtag, capacity * ETAG_OCTETS);
    this.recordEtagReady = fresh ? new Uint8Array(capacity) : grown(this.recordEtagReady, capacity);
    this.recordCapacity = capacity;
  }

  /** Copies `der` at the end of the newest slab (a new one when it does not fit); returns that slab. */
  private append(der: Uint8Array): Slab {
    let slab = this.slabs[this.slabs.length - 1];
    if (!slab || slab.used + der.length > slab.bytes.length) {
      const size = Math.max(this.slabBytes, der.length);
      while (this.slabs.length > 0 && this.byteSize + size > this.maxBytes) this.evictOldest();
      // Not from the shared pool, and never reused: a view handed out keeps an evicted slab alive until it is sent.
      slab = { seq: this.nextSlabSeq++, bytes: Buffer.allocUnsafeSlow(size), used: 0, records: new Int32Array(1024), count: 0 };
      this.slabs.push(slab);
      this.heldSlabBytes += size;
    }
    slab.bytes.set(der, slab.used);
    slab.used += der.length;
    return slab;
  }

  /** Drops the oldest slab and every entry still in it. */
  private evictOldest(): void {
    const slab = this.slabs.shift()!;
    this.heldSlabBytes -= slab.bytes.length;
    for (let i = 0; i < slab.count; i++) {
      const id = slab.records[i];
      if (this.recordSlab[id] !== slab.seq) continue; // since replaced, deleted or reused elsewhere
      let slot = this.recordHash[id] & this.mask;
      while (this.slots[slot] !== id) slot = (slot + 1) & this.mask;
      this.remove(slot);
    }
  }

  private viewOf(id: number): CachedResponse {
    const seq = this.recordSlab[id];
    const slab = this.slabs[seq - this.slabs[0].seq];
    const offset = this.recordOffset[id];
    const code = this.recordCode[id];
    const status =
      code === 0 ? GOOD : code === 2 ? UNKNOWN : { code: 1 as const, revokedAt: this.recordRevokedAt[id], reason: this.recordReason[id] };
    return new CachedResponseView(
      slab.bytes.subarray(offset, offset + this.recordLength[id]),
      this.recordThisUpdate[id],
      this.recordNextUpdate[id],
      status,
      this,
      id,
      seq,
      offset,
    );
  }
}

/** What `get` returns: young garbage, gone once the answer is sent. */
class CachedResponseView implements CachedResponse {
  constructor(
    readonly der: Buffer,
    readonly thisUpdate: number,
    readonly nextUpdate: number,
    readonly status: CachedStatus,
    private readonly cache: OcspResponseCache,
    private readonly id: number,
    private readonly seq: number,
    private readonly offset: number,
  ) {}

  get etag(): string {
    return this.cache.etagOf(this.id, this.seq, this.offset, this.der);
  }
}

function grown<T extends Uint8Array | Int8Array | Int32Array | Uint32Array | Float64Array>(array: T, length: number): T {
  const copy = new (array.constructor as new (length: number) => T)(length);
  copy.set(array as never);
  return copy;
}

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  if (code >= 97 && code <= 102) return code - 87; // a-f
  if (code >= 65 && code <= 70) return code - 55; // A-F
  return -1;
}
