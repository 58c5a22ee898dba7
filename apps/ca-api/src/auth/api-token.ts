import { createHash, randomBytes } from 'node:crypto';

/**
 * API tokens: `mca_` + 32 random bytes (base64url). Only their SHA-256 is
 * stored (api_credential.secret_hash); a high-entropy token needs no slow
 * hash, and a look-up by digest does not leak timing about the secret.
 */
export const TOKEN_PREFIX = 'mca_';

export function newApiToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function apiTokenDigest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export function looksLikeApiToken(token: string): boolean {
  return /^mca_[A-Za-z0-9_-]{43}$/.test(token);
}
