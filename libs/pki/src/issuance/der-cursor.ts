/**
 * A DER cursor (X.690 §8.1, §10.1) for the lint, which reads every
 * TBSCertificate once before it is signed: like `revocation/der-reader.ts`
 * it never builds a tree and never copies, and unlike it, it does not even
 * return an object per element. The element just read is described by the
 * cursor's own fields (`tag`, `start`, `contentStart`, `end`); descending
 * into it narrows the cursor, leaving it widens it back.
 *
 * The header rules are those of {@link readNode} (one-octet tags, definite
 * lengths in the shortest form, at most 6 length octets), and the elements
 * of a constructed element must tile its content exactly, as
 * {@link children} requires: {@link DerCursor.leave} reads whatever was not
 * read. Anything else throws RangeError.
 */
import { derContentLength, derHeaderOctets } from '../signing/der';

const EMPTY = new Uint8Array(0);

export class DerCursor {
  bytes: Uint8Array = EMPTY;
  /** Offset of the next element. */
  position = 0;
  /** End of the content being read (the enclosing element's end). */
  limit = 0;
  /** The element last read: its identifier octet and where its header, content and end are. */
  tag = -1;
  start = 0;
  contentStart = 0;
  end = 0;

  /** Starts reading `bytes` between `start` and `limit`. */
  reset(bytes: Uint8Array, start = 0, limit = bytes.length): this {
    this.bytes = bytes;
    this.position = start;
    this.limit = limit;
    this.tag = -1;
    this.start = this.contentStart = this.end = start;
    return this;
  }

  /** True when every element up to the limit has been read. */
  get done(): boolean {
    return this.position >= this.limit;
  }

  /** Reads the next element's header and moves past the element; returns its tag. */
  next(): number {
    const bytes = this.bytes;
    const offset = this.position;
    if (offset + 2 > this.limit) throw new RangeError('truncated DER element');
    const tag = bytes[offset];
    if ((tag & 0x1f) === 0x1f) throw new RangeError('multi-octet tags are not used in X.509');
    const length = derContentLength(bytes, offset, this.limit);
    const contentStart = offset + derHeaderOctets(bytes, offset);
    const end = contentStart + length;
    if (end > bytes.length) throw new RangeError('truncated DER content');
    if (end > this.limit) throw new RangeError('child element overruns its parent');
    this.tag = tag;
    this.start = offset;
    this.contentStart = contentStart;
    this.end = end;
    this.position = end;
    return tag;
  }

  /** Reads the next element, which must have `tag`. */
  nextTagged(tag: number, what: string): void {
    if (this.next() !== tag) throw new RangeError(`${what}: expected tag 0x${tag.toString(16)}, found 0x${this.tag.toString(16)}`);
  }

  /** Reads the only element between the current position and the limit (no trailing bytes). */
  single(): number {
    const tag = this.next();
    if (this.end !== this.limit) throw new RangeError(`${this.limit - this.end} trailing bytes after the DER element`);
    return tag;
  }

  /**
   * Descends into the element last read, which must be constructed; returns
   * what {@link leave} needs to come back out.
   */
  enter(): number {
    if ((this.tag & 0x20) === 0) throw new RangeError(`tag 0x${this.tag.toString(16)} is not constructed`);
    const outer = this.limit;
    this.position = this.contentStart;
    this.limit = this.end;
    return outer;
  }

  /** Like {@link enter}, after checking the element's tag. */
  enterTagged(tag: number, what: string): number {
    if (this.tag !== tag) throw new RangeError(`${what}: expected tag 0x${tag.toString(16)}, found 0x${this.tag.toString(16)}`);
    return this.enter();
  }

  /** Reads the elements left in the current element (they must tile it) and returns to the enclosing one. */
  leave(outer: number): void {
    while (this.position < this.limit) this.next();
    this.limit = outer;
  }

  /** Whether the content of the element last read is exactly the octets of `other`. */
  contentEquals(other: Uint8Array): boolean {
    return rangeEquals(this.bytes, this.contentStart, this.end, other);
  }

  /** Whether the content of the element last read, read as ISO 8859-1, is exactly `text`. */
  contentIsText(text: string): boolean {
    const { bytes, contentStart, end } = this;
    if (end - contentStart !== text.length) return false;
    for (let i = 0; i < text.length; i++) if (bytes[contentStart + i] !== text.charCodeAt(i)) return false;
    return true;
  }

  /** The content of the element last read (a view). */
  content(): Uint8Array {
    return this.bytes.subarray(this.contentStart, this.end);
  }
}

/** Whether `bytes[start, end)` holds exactly the octets of `other`. */
export function rangeEquals(bytes: Uint8Array, start: number, end: number, other: Uint8Array): boolean {
  if (end - start !== other.length) return false;
  for (let i = 0; i < other.length; i++) if (bytes[start + i] !== other[i]) return false;
  return true;
}
