/**
 * AES-CMAC (NIST SP 800-38B; RFC 4493 for AES-128) over AES-ECB from
 * node:crypto, which has no CMAC of its own. Keys of 16 or 32 bytes
 * (AES-128, AES-256); the tag is the full 16-byte block.
 */
import { createCipheriv, timingSafeEqual } from 'node:crypto';

const BLOCK = 16;
/** SP 800-38B §5.3: R_128 = 0^120 || 10000111. */
const R128 = 0x87;

/** AES-CMAC of `message` under `key` (16 or 32 bytes): RFC 4493 §2.4. */
export function aesCmac(key: Uint8Array, message: Uint8Array): Buffer {
  const cipher = ecbCipher(key);
  const encrypt = (block: Buffer): Buffer => cipher.update(block);
  // RFC 4493 §2.3: L = AES(K, 0^128); K1 = L << 1 (xor Rb); K2 = K1 << 1 (xor Rb).
  const l = encrypt(Buffer.alloc(BLOCK));
  const k1 = doubleBlock(l);
  const k2 = doubleBlock(k1);

  const blocks = Math.max(1, Math.ceil(message.length / BLOCK));
  const complete = message.length > 0 && message.length % BLOCK === 0;
  const last = Buffer.alloc(BLOCK);
  const lastStart = (blocks - 1) * BLOCK;
  if (complete) {
    xorInto(last, message.subarray(lastStart, lastStart + BLOCK), k1);
  } else {
    const tail = Buffer.alloc(BLOCK);
    Buffer.from(message.subarray(lastStart)).copy(tail);
    tail[message.length - lastStart] = 0x80; // padding 10^i (RFC 4493 §2.4 step 4)
    xorInto(last, tail, k2);
    tail.fill(0);
  }
  let x: Buffer = Buffer.alloc(BLOCK);
  for (let i = 0; i < blocks - 1; i++) {
    const y = Buffer.alloc(BLOCK);
    xorInto(y, x, message.subarray(i * BLOCK, (i + 1) * BLOCK));
    x.fill(0);
    x = encrypt(y);
    y.fill(0);
  }
  const y = Buffer.alloc(BLOCK);
  xorInto(y, x, last);
  const tag = encrypt(y);
  cipher.final();
  // The subkeys and the chaining values are secrets of the key (L = AES(K, 0)); the caller owns only the tag.
  for (const secret of [l, k1, k2, last, x, y]) secret.fill(0);
  return tag;
}

/** RFC 4493 §2.5 Verify_MAC, in constant time. */
export function aesCmacVerify(key: Uint8Array, message: Uint8Array, tag: Uint8Array): boolean {
  const expected = aesCmac(key, message);
  return tag.length === expected.length && timingSafeEqual(expected, tag);
}

function ecbCipher(key: Uint8Array) {
  if (key.length !== 16 && key.length !== 32) throw new RangeError(`AES-CMAC key must be 16 or 32 bytes, not ${key.length}`);
  const cipher = createCipheriv(key.length === 16 ? 'aes-128-ecb' : 'aes-256-ecb', key, null);
  cipher.setAutoPadding(false);
  return cipher;
}

/** Multiplication by x in GF(2^128) (SP 800-38B §6.1 step 2-3). */
function doubleBlock(block: Buffer): Buffer {
  const out = Buffer.alloc(BLOCK);
  for (let i = 0; i < BLOCK; i++) out[i] = ((block[i] << 1) | (i + 1 < BLOCK ? block[i + 1] >> 7 : 0)) & 0xff;
  // Without a branch on the secret top bit: the mask is 0xff when it is set, 0 otherwise.
  out[BLOCK - 1] ^= R128 & -(block[0] >> 7);
  return out;
}

function xorInto(target: Buffer, a: Uint8Array, b: Uint8Array): void {
  for (let i = 0; i < BLOCK; i++) target[i] = a[i] ^ b[i];
}
