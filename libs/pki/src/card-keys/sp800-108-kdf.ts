/**
 * The key-derivation function in counter mode of NIST SP 800-108r1 §4.1,
 * with the PRF supplied by the caller (AES-CMAC here: in process memory, or
 * C_Sign with CKM_AES_CMAC on a key that stays in an HSM).
 *
 *   K(i) = PRF(K_IN, [i]_32 || Label || 0x00 || Context || [L]_32),  i = 1..n
 *   K_OUT = the leftmost L bits of K(1) || ... || K(n)
 *
 * r = 32 bits for the counter, and the fixed input data in the order of
 * §4.1 (the layout OpenSSL's KBKDF uses by default, so `openssl kdf ...
 * KBKDF` computes the same bytes).
 */

/** One PRF invocation: the PRF output for one fixed-input block. */
export type KdfPrf = (input: Uint8Array) => Promise<Uint8Array>;

export interface CounterKdfInput {
  label: Uint8Array;
  context: Uint8Array;
  /** L, the output length in bits: a multiple of 8, at most 2^32 - 1. */
  lengthBits: number;
}

/** The fixed input data for iteration `i` (SP 800-108r1 §4.1, step 4.1). */
export function counterKdfBlock(i: number, input: CounterKdfInput): Buffer {
  const counter = Buffer.alloc(4);
  counter.writeUInt32BE(i);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(input.lengthBits);
  return Buffer.concat([counter, input.label, Buffer.from([0x00]), input.context, length]);
}

/** Derives L bits with SP 800-108r1 counter mode over `prf`. */
export async function counterModeKdf(prf: KdfPrf, input: CounterKdfInput): Promise<Buffer> {
  const { lengthBits } = input;
  if (!Number.isInteger(lengthBits) || lengthBits <= 0 || lengthBits % 8 !== 0 || lengthBits > 0xffffffff) {
    throw new RangeError(`KDF output length must be a positive multiple of 8 bits, not ${lengthBits}`);
  }
  const blocks: Buffer[] = [];
  try {
    let produced = 0;
    for (let i = 1; produced * 8 < lengthBits; i++) {
      const raw = await prf(counterKdfBlock(i, input));
      // The PRF's own buffer holds key material too (the card key is its output): copy, then zero it.
      const output = Buffer.from(raw);
      raw.fill(0);
      if (output.length === 0) throw new Error('the KDF PRF returned no output');
      blocks.push(output);
      produced += output.length;
    }
    const all = Buffer.concat(blocks);
    const result = Buffer.from(all.subarray(0, lengthBits / 8));
    all.fill(0);
    return result;
  } finally {
    // Also when a PRF call fails half-way: no block of key material is left behind.
    blocks.forEach((block) => block.fill(0));
  }
}
