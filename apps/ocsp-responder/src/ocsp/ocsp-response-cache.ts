import { createHash } from 'node:crypto';
import { ocspCertsFieldStart, type CertIdHashAlgorithm } from '@moica/pki';

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

/**
 * One record: 104 octets, every field of an entry side by side so that a
 * look-up touches one or two cache lines (a struct of arrays costs one miss
 * per field at ten million entries). Offsets in units of the view used.
 */
const RECORD_OCTETS = 104;
const F64_PER_RECORD = RECORD_OCTETS / 8;
const U32_PER_RECORD = RECORD_OCTETS / 4;
const F64_THIS_UPDATE = 0;
const F64_NEXT_UPDATE = 1;
const F64_REVOKED_AT = 2;
const U32_OFFSET = 6; // in its slab; for a free record, the next free record + 1 (0: none)
const U32_LENGTH = 7;
const I32_SLAB = 8; // slab sequence number, -1 for a free record
const I32_HASH = 9;
const U8_TABLE = 40;
const U8_NIBBLES = 41; // hex digits of the serial
const U8_CODE = 42;
const U8_REASON = 43; // CRLReason code, 0xff for none
const U8_ETAG_READY = 44;
const U8_KEY = 45; // MAX_SERIAL_OCTETS
const U8_ETAG = U8_KEY + MAX_SERIAL_OCTETS; // ETAG_OCTETS, ends at 97
const U8_TAIL = 97; // index into `tails` of the shared end of the DER, NO_TAIL for none
const NO_TAIL = 0xff;
/** Distinct shared ends kept (one per responder certificate in use: a rotation adds one); beyond, responses are kept whole. */
const MAX_TAILS = 16;

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
 * - each entry is a 104-octet record in one ArrayBuffer (key, slab, offset,
 *   length, thisUpdate, nextUpdate, status, revokedAt, reason, ETag digest),
 *   indexed by an open-addressing table of (record, hash) pairs in an
 *   Int32Array (linear probing, tombstones, rehash) keyed by (table of the CA
 *   and CertID hash algorithm, serial magnitude octets);
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
  /**
   * The shared ends of responses: the `certs` field of a BasicOCSPResponse
   * (the delegated responder's certificate), the same octets in every
   * response that responder signs, kept once here instead of in every entry.
   */
  private tails: Buffer[] = [];
  private tailBytes = 0;
  private nextSlabSeq = 0;
  private heldSlabBytes = 0;

  // Records, RECORD_OCTETS each, seen through four views of one ArrayBuffer.
  private recordCapacity = 0;
  private nextRecord = 0;
  private freeRecord = -1;
  private f64!: Float64Array;
  private u32!: Uint32Array;
  private i32!: Int32Array;
  private u8!: Uint8Array;
  /** The same records as a Buffer, to encode an ETag straight out of them. */
  private recordBytes!: Buffer;

  /** The index: per slot, [record id or EMPTY or TOMBSTONE, hash of its key] (a probe reads no record until the hash matches). */
  private slots!: Int32Array;
  private mask = 0;
  private usedSlots = 0;
  private entries = 0;

  /** The key being looked up: serial magnitude octets (an odd number of hex digits left-padded with 0). */
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
    const id = this.slots[2 * slot];
    if (this.f64[id * F64_PER_RECORD + F64_NEXT_UPDATE] - marginMs <= nowMs) return undefined;
    return this.viewOf(id);
  }

  /** Adds or replaces; keeps the newer of two responses (by thisUpdate) unless `force`. The DER is copied. */
  set(caId: string, algorithm: CertIdHashAlgorithm, serialHex: string, entry: CachedResponse, force = false): void {
    const nibbles = this.parseKey(serialHex);
    if (nibbles < 0) return; // not a serial we can key: not cached, answered from PostgreSQL each time
    const table = this.tableIdOf(caId, algorithm);
    const hash = this.hashKey(table, nibbles);
    let slot = this.find(table, nibbles, hash);
    if (slot >= 0 && !force && this.f64[this.slots[2 * slot] * F64_PER_RECORD + F64_THIS_UPDATE] > entry.thisUpdate) return;

    const tail = this.tailOf(entry.der);
    const stored = tail === NO_TAIL ? entry.der : entry.der.subarray(0, entry.der.length - this.tails[tail].length);
    const slab = this.append(stored); // may evict the oldest slabs, this key's entry among them
    slot = this.find(table, nibbles, hash);
    let id: number;
    if (slot >= 0) {
      id = this.slots[2 * slot];
    } else {
      id = this.newRecord();
      this.reserveSlot();
      slot = this.freeSlot(hash);
      if (this.slots[2 * slot] === EMPTY) this.usedSlots++;
      this.slots[2 * slot] = id;
      this.slots[2 * slot + 1] = hash;
      this.entries++;
      const at = id * RECORD_OCTETS;
      this.u8[at + U8_TABLE] = table;
      this.u8[at + U8_NIBBLES] = nibbles;
      this.i32[id * U32_PER_RECORD + I32_HASH] = hash;
      this.u8.set(this.key.subarray(0, (nibbles + 1) >> 1), at + U8_KEY);
    }
    const f = id * F64_PER_RECORD;
    this.f64[f + F64_THIS_UPDATE] = entry.thisUpdate;
    this.f64[f + F64_NEXT_UPDATE] = entry.nextUpdate;
    this.f64[f + F64_REVOKED_AT] = entry.status.revokedAt;
    const w = id * U32_PER_RECORD;
    this.i32[w + I32_SLAB] = slab.seq;
    this.u32[w + U32_OFFSET] = slab.used - stored.length;
    this.u32[w + U32_LENGTH] = stored.length;
    const at = id * RECORD_OCTETS;
    this.u8[at + U8_TAIL] = tail;
    this.u8[at + U8_CODE] = entry.status.code;
    this.u8[at + U8_REASON] = entry.status.reason < 0 ? 0xff : entry.status.reason;
    this.u8[at + U8_ETAG_READY] = 0;
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

  /** Bytes held: the slabs (whole) and the index. */
  get byteSize(): number {
    return this.heldSlabBytes + this.tailBytes + this.recordCapacity * RECORD_OCTETS + this.slots.byteLength;
  }

  /** The strong ETag of the entry `id` as of (`seq`, `offset`), from its digest computed once (RFC 5019 §6.2). */
  etagOf(id: number, seq: number, offset: number, der: Buffer): string {
    const w = id * U32_PER_RECORD;
    if (this.i32[w + I32_SLAB] !== seq || this.u32[w + U32_OFFSET] !== offset) {
      return `"${createHash('sha1').update(der).digest('base64url')}"`; // replaced since: nothing to remember it in
    }
    const at = id * RECORD_OCTETS;
    if (this.u8[at + U8_ETAG_READY] === 0) {
      this.u8.set(createHash('sha1').update(der).digest(), at + U8_ETAG);
      this.u8[at + U8_ETAG_READY] = 1;
    }
    // toString with a range encodes in place: no view object, no `.buffer` (a C++ getter call) per request.
    return `"${this.recordBytes.toString('base64url', at + U8_ETAG, at + U8_ETAG + ETAG_OCTETS)}"`;
  }

  private reset(): void {
    this.tableIds = new Map();
    this.tables = 0;
    this.slabs = [];
    this.heldSlabBytes = 0;
    this.tails = [];
    this.tailBytes = 0;
    this.recordCapacity = 0;
    this.nextRecord = 0;
    this.freeRecord = -1;
    this.growRecords(INITIAL_RECORDS);
    this.slots = new Int32Array(INITIAL_RECORDS * 2 * 2).fill(EMPTY);
    this.mask = INITIAL_RECORDS * 2 - 1;
    this.usedSlots = 0;
    this.entries = 0;
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
      const id = slots[2 * slot];
      if (id === EMPTY) return -1;
      if (id >= 0 && slots[2 * slot + 1] === hash && this.sameKey(id, table, nibbles, octets)) return slot;
    }
  }

  private sameKey(id: number, table: number, nibbles: number, octets: number): boolean {
    const u8 = this.u8;
    const at = id * RECORD_OCTETS;
    if (u8[at + U8_TABLE] !== table || u8[at + U8_NIBBLES] !== nibbles) return false;
    const key = this.key;
    for (let i = 0; i < octets; i++) if (u8[at + U8_KEY + i] !== key[i]) return false;
    return true;
  }

  /** The first empty or tombstone slot on `hash`'s probe sequence (the key is known to be absent). */
  private freeSlot(hash: number): number {
    let slot = hash & this.mask;
    while (this.slots[2 * slot] >= 0) slot = (slot + 1) & this.mask;
    return slot;
  }

  /** Makes room for one more slot in use: a rehash, at twice the capacity when live entries need it. */
  private reserveSlot(): void {
    const capacity = this.mask + 1;
    if (this.usedSlots + 1 <= capacity * MAX_LOAD) return;
    this.rehash(this.entries + 1 > capacity * (MAX_LOAD / 2) ? capacity * 2 : capacity);
  }

  private rehash(capacity: number): void {
    const old = this.slots;
    const slots = (this.slots = new Int32Array(capacity * 2).fill(EMPTY));
    const mask = (this.mask = capacity - 1);
    for (let i = 0; i < old.length; i += 2) {
      if (old[i] < 0) continue;
      let slot = old[i + 1] & mask;
      while (slots[2 * slot] !== EMPTY) slot = (slot + 1) & mask;
      slots[2 * slot] = old[i];
      slots[2 * slot + 1] = old[i + 1];
    }
    this.usedSlots = this.entries;
  }

  private remove(slot: number): void {
    const id = this.slots[2 * slot];
    this.slots[2 * slot] = TOMBSTONE;
    const w = id * U32_PER_RECORD;
    this.i32[w + I32_SLAB] = -1;
    this.u32[w + U32_OFFSET] = this.freeRecord + 1;
    this.freeRecord = id;
    this.entries--;
  }

  private newRecord(): number {
    if (this.freeRecord >= 0) {
      const id = this.freeRecord;
      this.freeRecord = this.u32[id * U32_PER_RECORD + U32_OFFSET] - 1;
      return id;
    }
    // x1.5, not x2: the spare records count against the budget (at most a third of the records' bytes).
    if (this.nextRecord === this.recordCapacity) this.growRecords(Math.ceil((this.recordCapacity * 1.5) / 64) * 64);
    return this.nextRecord++;
  }

  private growRecords(capacity: number): void {
    const records = new ArrayBuffer(capacity * RECORD_OCTETS);
    const u8 = new Uint8Array(records);
    if (this.recordCapacity > 0) u8.set(this.u8.subarray(0, this.recordCapacity * RECORD_OCTETS));
    this.u8 = u8;
    this.recordBytes = Buffer.from(records);
    this.f64 = new Float64Array(records);
    this.u32 = new Uint32Array(records);
    this.i32 = new Int32Array(records);
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
      const w = id * U32_PER_RECORD;
      if (this.i32[w + I32_SLAB] !== slab.seq) continue; // since replaced, deleted or reused elsewhere
      let slot = this.i32[w + I32_HASH] & this.mask;
      while (this.slots[2 * slot] !== id) slot = (slot + 1) & this.mask;
      this.remove(slot);
    }
  }

  /**
   * The index of `der`'s shared end in `tails` (added when new), or NO_TAIL:
   * the `[0] certs` field that closes a BasicOCSPResponse inside an
   * OCSPResponse (RFC 6960 §4.2.1), found by `ocspCertsFieldStart`; any
   * other shape (an error response, no certificates, a malformed one) is
   * kept whole. Concatenated back, the octets are exactly those given.
   */
  private tailOf(der: Buffer): number {
    const start = ocspCertsFieldStart(der);
    if (start < 0) return NO_TAIL;
    const length = der.length - start;
    for (let i = this.tails.length - 1; i >= 0; i--) {
      const tail = this.tails[i];
      if (tail.length === length && der.compare(tail, 0, length, start) === 0) return i;
    }
    if (this.tails.length === MAX_TAILS) return NO_TAIL;
    this.tails.push(Buffer.from(der.subarray(start)));
    this.tailBytes += length;
    return this.tails.length - 1;
  }

  private viewOf(id: number): CachedResponse {
    const w = id * U32_PER_RECORD;
    const f = id * F64_PER_RECORD;
    const at = id * RECORD_OCTETS;
    const seq = this.i32[w + I32_SLAB];
    const offset = this.u32[w + U32_OFFSET];
    const slab = this.slabs[seq - this.slabs[0].seq];
    const code = this.u8[at + U8_CODE];
    const reason = this.u8[at + U8_REASON];
    const status = code === 0 ? GOOD : code === 2 ? UNKNOWN : { code: 1 as const, revokedAt: this.f64[f + F64_REVOKED_AT], reason: reason === 0xff ? -1 : reason };
    const length = this.u32[w + U32_LENGTH];
    const tail = this.u8[at + U8_TAIL];
    let der: Buffer;
    if (tail === NO_TAIL) {
      der = slab.bytes.subarray(offset, offset + length);
    } else {
      // The stored head and the shared tail copied into one new Buffer (what Buffer.concat does, without its views).
      const shared = this.tails[tail];
      der = Buffer.allocUnsafe(length + shared.length);
      slab.bytes.copy(der, 0, offset, offset + length);
      shared.copy(der, length);
    }
    return new CachedResponseView(
      der,
      this.f64[f + F64_THIS_UPDATE],
      this.f64[f + F64_NEXT_UPDATE],
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

function grown(array: Int32Array, length: number): Int32Array {
  const copy = new Int32Array(length);
  copy.set(array);
  return copy;
}

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  if (code >= 97 && code <= 102) return code - 87; // a-f
  if (code >= 65 && code <= 70) return code - 55; // A-F
  return -1;
}
