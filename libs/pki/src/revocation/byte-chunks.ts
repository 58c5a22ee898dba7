/**
 * An append-only byte accumulator made of fixed-size chunks: the list of
 * revoked certificates of a CRL, whose total length (needed up front by the
 * DER length of the enclosing SEQUENCE) is only known at the end. A million
 * entries are ~50 MB in ~50 chunks, not a million objects, and appending
 * never copies what was already written (unlike a doubling buffer).
 */
export class ByteChunks {
  private readonly full: Uint8Array[] = [];
  private current: Uint8Array;
  private used = 0;
  private total = 0;

  constructor(private readonly chunkSize = 1 << 20) {
    this.current = Buffer.allocUnsafe(chunkSize);
  }

  /** Bytes appended so far. */
  get byteLength(): number {
    return this.total;
  }

  /** Appends a copy of `bytes`. */
  append(bytes: Uint8Array): void {
    let from = 0;
    while (from < bytes.length) {
      if (this.used === this.chunkSize) {
        this.full.push(this.current);
        this.current = Buffer.allocUnsafe(this.chunkSize);
        this.used = 0;
      }
      const count = Math.min(bytes.length - from, this.chunkSize - this.used);
      this.current.set(count === bytes.length ? bytes : bytes.subarray(from, from + count), this.used);
      this.used += count;
      from += count;
    }
    this.total += bytes.length;
  }

  /**
   * Copies everything into `target` at `offset`, then lets go of the chunks
   * (so they can be collected while the caller carries on), and returns the
   * offset after the copied bytes.
   */
  drainInto(target: Uint8Array, offset: number): number {
    for (let i = 0; i < this.full.length; i++) {
      target.set(this.full[i], offset);
      offset += this.full[i].length;
    }
    target.set(this.current.subarray(0, this.used), offset);
    offset += this.used;
    this.full.length = 0;
    this.current = new Uint8Array(0);
    this.used = 0;
    this.total = 0;
    return offset;
  }
}
