/**
 * A small bounds-checked DER reader (X.690 §8.1, §10.1) for the hot paths
 * that parse untrusted input: OCSP requests arrive from anyone on the
 * Internet. It never allocates a tree, never copies (elements are offsets
 * into the input), and accepts DER only: definite lengths in the shortest
 * form, one-octet tags, no trailing garbage where the caller checks for it.
 *
 * Malformed input throws {@link DerReadError}; public parsers catch it at
 * their boundary and return a typed error instead.
 */

/** Input that is not the expected DER. Internal to the parsers of this module. */
export class DerReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DerReadError';
  }
}

/** One element: its tag and where its header, content and end are in the input. */
export interface DerElement {
  readonly tag: number;
  /** Offset of the tag octet. */
  readonly start: number;
  readonly contentStart: number;
  /** Offset just after the content. */
  readonly end: number;
}

/** A cursor over the elements between two offsets of a byte array. */
export class DerReader {
  private offset: number;

  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    private readonly limit = bytes.length,
  ) {
    if (start < 0 || limit > bytes.length || start > limit) throw new DerReadError('reader out of bounds');
    this.offset = start;
  }

  /** A reader over the content of a constructed element. */
  static inside(bytes: Uint8Array, element: DerElement): DerReader {
    return new DerReader(bytes, element.contentStart, element.end);
  }

  /** True when every element has been read. */
  get done(): boolean {
    return this.offset >= this.limit;
  }

  /** Offset of the next element. */
  get position(): number {
    return this.offset;
  }

  /** The tag of the next element, or -1 at the end. */
  peekTag(): number {
    return this.offset < this.limit ? this.bytes[this.offset] : -1;
  }

  /** Reads the next element; with `expectedTag`, it must have that tag. */
  next(expectedTag?: number, what = 'element'): DerElement {
    const bytes = this.bytes;
    const start = this.offset;
    if (start + 2 > this.limit) throw new DerReadError(`truncated ${what}`);
    const tag = bytes[start];
    if ((tag & 0x1f) === 0x1f) throw new DerReadError(`multi-octet tag in ${what}`);
    if (expectedTag !== undefined && tag !== expectedTag) {
      throw new DerReadError(`${what}: expected tag 0x${hex2(expectedTag)}, found 0x${hex2(tag)}`);
    }
    const first = bytes[start + 1];
    let length: number;
    let contentStart: number;
    if (first < 0x80) {
      length = first;
      contentStart = start + 2;
    } else {
      const count = first & 0x7f;
      if (count === 0) throw new DerReadError(`indefinite length in ${what}`);
      if (count > 4) throw new DerReadError(`length of ${what} too large`);
      if (start + 2 + count > this.limit) throw new DerReadError(`truncated length of ${what}`);
      if (bytes[start + 2] === 0) throw new DerReadError(`non-minimal length of ${what}`);
      length = 0;
      for (let i = 0; i < count; i++) length = length * 256 + bytes[start + 2 + i];
      if (length < 0x80) throw new DerReadError(`non-minimal length of ${what}`);
      contentStart = start + 2 + count;
    }
    const end = contentStart + length;
    if (end > this.limit) throw new DerReadError(`truncated ${what}`);
    this.offset = end;
    return { tag, start, contentStart, end };
  }

  /** Reads the next element if it has `tag`, otherwise reads nothing. */
  optional(tag: number, what?: string): DerElement | undefined {
    return this.peekTag() === tag ? this.next(tag, what) : undefined;
  }

  /** Throws unless every element has been read. */
  finish(what: string): void {
    if (this.offset !== this.limit) throw new DerReadError(`unexpected data after ${what}`);
  }
}

/** The content octets of an element (a view, not a copy). */
export function contentOf(bytes: Uint8Array, element: DerElement): Uint8Array {
  return bytes.subarray(element.contentStart, element.end);
}

/** The whole encoding of an element, tag to end (a view, not a copy). */
export function encodingOf(bytes: Uint8Array, element: DerElement): Uint8Array {
  return bytes.subarray(element.start, element.end);
}

/** True when two byte ranges are equal. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function hex2(value: number): string {
  return value.toString(16).padStart(2, '0');
}
