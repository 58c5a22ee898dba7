import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/**
 * National ID numbers at rest (DOMAIN.md: personal data). Stored encrypted
 * with AES-256-GCM (a fresh 96-bit nonce per value; the holder row id is
 * bound as associated data so a ciphertext cannot be moved to another row),
 * and found by HMAC-SHA-256 under a separate key, so a look-up never needs
 * the clear value in a query, a URL or a log.
 *
 * Ciphertext layout: version (1 byte = 1) || nonce (12) || tag (16) || ciphertext.
 */
export class NationalIdVault {
  constructor(
    private readonly encryptionKey: Buffer,
    private readonly hmacKey: Buffer,
  ) {
    if (encryptionKey.length !== 32) throw new Error('the national ID encryption key must be 32 bytes');
    if (hmacKey.length < 32) throw new Error('the national ID HMAC key must be at least 32 bytes');
  }

  /** The look-up key of an ID number (normalised to upper case). */
  lookupHash(nationalId: string): Buffer {
    return createHmac('sha256', this.hmacKey).update(normalise(nationalId), 'utf8').digest();
  }

  encrypt(nationalId: string, associatedData: string): Buffer {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.encryptionKey, nonce);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(normalise(nationalId), 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.of(1), nonce, cipher.getAuthTag(), ciphertext]);
  }

  decrypt(sealed: Buffer, associatedData: string): string {
    if (sealed.length < 30 || sealed[0] !== 1) throw new Error('not a sealed national ID (unknown version)');
    const decipher = createDecipheriv('aes-256-gcm', this.encryptionKey, sealed.subarray(1, 13));
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(sealed.subarray(13, 29));
    return Buffer.concat([decipher.update(sealed.subarray(29)), decipher.final()]).toString('utf8');
  }
}

function normalise(nationalId: string): string {
  return nationalId.trim().toUpperCase();
}
