/**
 * Reads the values of a one-column `COPY ... TO STDOUT (FORMAT binary)`
 * stream (PostgreSQL, "COPY: Binary Format"): the 11-octet signature, flags
 * and header extension, then per tuple an int16 field count and, per field,
 * an int32 length (-1 for NULL) and the raw value; an int16 -1 ends the data.
 *
 * Values come out in batches, one per network chunk, so a million rows are
 * about a thousand iterations, not a million promises. A value inside one
 * chunk is a view of that chunk (no copy); a value spanning chunks is
 * assembled into its own buffer (a 48 MB CRL from published_crl.der is
 * allocated once at its final size).
 */
import type { Pool } from 'pg';
import { to as copyTo } from 'pg-copy-streams';

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

export class CopyFormatError extends Error {
  override name = 'CopyFormatError';
}

/**
 * Yields arrays of the non-NULL values of a one-column binary COPY, in
 * order. NULLs are skipped, or with `nulls: 'refuse'` are an error.
 *
 * With `compact: true` the values found whole in a network chunk are moved
 * together inside that chunk (over the tuple headers) and yielded as one
 * contiguous view, so a batch of stored CRL entries is one item for the
 * CRL builder with no copy and no allocation; the source's chunks must then
 * be the caller's to overwrite (pg-copy-streams hands over fresh buffers).
 * A value split across chunks is assembled once, at its final size.
 */
export async function* binaryCopyValues(
  source: AsyncIterable<Buffer | Uint8Array> | Iterable<Buffer | Uint8Array>,
  options: { nulls?: 'skip' | 'refuse'; compact?: boolean } = {},
): AsyncGenerator<Uint8Array[]> {
  // Fixed-size fields (file header, field count, field length) are read through `scratch`
  // so that a field split across chunks needs no concatenation of the chunks.
  const scratch = Buffer.alloc(19);
  let scratchFilled = 0;
  let state: 'header' | 'extension' | 'count' | 'length' | 'value' | 'end' = 'header';
  let extensionLeft = 0;
  let partial: Buffer | undefined; // a value being assembled across chunks
  let partialFilled = 0;

  for await (const piece of source) {
    const chunk: Buffer = Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    const out: Uint8Array[] = [];
    let offset = 0;
    let write = 0; // compaction: end of the values moved together so far
    let compactedFrom = -1;
    const need = (size: number): boolean => {
      const take = Math.min(size - scratchFilled, chunk.length - offset);
      chunk.copy(scratch, scratchFilled, offset, offset + take);
      scratchFilled += take;
      offset += take;
      if (scratchFilled < size) return false;
      scratchFilled = 0;
      return true;
    };
    while (offset < chunk.length) {
      if (state === 'header') {
        if (!need(19)) break;
        if (!scratch.subarray(0, 11).equals(SIGNATURE)) throw new CopyFormatError('not a binary COPY stream (bad signature)');
        extensionLeft = scratch.readUInt32BE(15);
        state = 'extension';
      } else if (state === 'extension') {
        const skip = Math.min(extensionLeft, chunk.length - offset);
        offset += skip;
        extensionLeft -= skip;
        if (extensionLeft === 0) state = 'count';
      } else if (state === 'count') {
        if (!need(2)) break;
        const fields = scratch.readInt16BE(0);
        if (fields === -1) state = 'end';
        else if (fields !== 1) throw new CopyFormatError(`expected one column per row, got ${fields}`);
        else state = 'length';
      } else if (state === 'length') {
        if (!need(4)) break;
        const length = scratch.readInt32BE(0);
        if (length === -1) {
          if (options.nulls === 'refuse') throw new CopyFormatError('a NULL value where every row must have one');
          state = 'count';
        } else if (length < 0) {
          throw new CopyFormatError(`invalid field length ${length}`);
        } else if (chunk.length - offset >= length) {
          // The whole value is in this chunk.
          if (!options.compact) out.push(chunk.subarray(offset, offset + length));
          else {
            if (compactedFrom < 0) compactedFrom = write = offset;
            if (write !== offset) chunk.copyWithin(write, offset, offset + length);
            write += length;
          }
          offset += length;
          state = 'count';
        } else {
          partial = Buffer.allocUnsafe(length);
          partialFilled = 0;
          state = 'value';
        }
      } else if (state === 'value') {
        const target = partial as Buffer;
        const take = Math.min(target.length - partialFilled, chunk.length - offset);
        chunk.copy(target, partialFilled, offset, offset + take);
        partialFilled += take;
        offset += take;
        if (partialFilled === target.length) {
          // Completed at the start of this chunk: it precedes anything compacted in this chunk.
          out.push(target);
          partial = undefined;
          state = 'count';
        }
      } else {
        throw new CopyFormatError('data after the end of the binary COPY stream');
      }
    }
    if (compactedFrom >= 0) out.push(chunk.subarray(compactedFrom, write));
    if (out.length > 0) yield out;
  }
  if (state !== 'end') throw new CopyFormatError('binary COPY stream ended early');
}

/** The binary COPY header and trailer, for writing one-column `COPY ... FROM STDIN (FORMAT binary)`. */
export const COPY_BINARY_HEADER = Buffer.concat([SIGNATURE, Buffer.alloc(8)]);
export const COPY_BINARY_TRAILER = Buffer.from([0xff, 0xff]);

/** The tuple header of a one-column row whose value is `length` octets long. */
export function copyBinaryTupleHeader(length: number): Buffer {
  const header = Buffer.alloc(6);
  header.writeInt16BE(1, 0);
  header.writeInt32BE(length, 2);
  return header;
}

/**
 * Reads one published CRL's DER by binary COPY: straight into a buffer of
 * its final size (a plain SELECT would carry 48 MB as 96 MB of hex text).
 * Undefined when there is no such CRL.
 */
export async function readPublishedCrlDer(pool: Pool, id: string): Promise<Buffer | undefined> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return undefined;
  const client = await pool.connect();
  let der: Buffer | undefined;
  try {
    const stream = client.query(copyTo(`COPY (SELECT der FROM published_crl WHERE id = '${id}') TO STDOUT (FORMAT binary)`));
    for await (const values of binaryCopyValues(stream)) {
      for (const value of values) der = Buffer.isBuffer(value) ? value : Buffer.from(value);
    }
  } finally {
    client.release();
  }
  // A value that fitted in one network chunk is a view of it: keep a copy of its own size.
  if (der && (der.byteOffset !== 0 || der.buffer.byteLength !== der.length)) der = Buffer.from(der);
  return der;
}
