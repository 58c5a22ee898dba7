/**
 * Card-specific symmetric keys derived from a master key, beside the Signer
 * abstraction: the same idea (callers never see the master key; one
 * implementation per key store), for the card unblock keys of
 * card-unblock-protocol.ts.
 *
 * | implementation | master key |
 * |---|---|
 * | SoftwareCardKeyDerivation | AES key file in process memory (development) |
 * | Pkcs11CardKeyDerivation | AES key in a PKCS#11 token: CKA_SENSITIVE, never extractable; the PRF is C_Sign with CKM_AES_CMAC |
 *
 * Both compute the same bytes for the same master key value (proved by the
 * SoftHSM2 tests with a test key imported into the token).
 */
import { aesCmac } from './aes-cmac';
import { aesKeyWrap } from './aes-key-wrap';
import { CardKeyContext, cardUnblockKdfInput } from './card-unblock-protocol';
import { counterModeKdf, KdfPrf } from './sp800-108-kdf';

export interface CardKeyDerivation {
  /** A stable, non-secret name for logs and errors, e.g. "pkcs11:MOICA CA/card-unblock-master-3". */
  readonly keyLabel: string;
  /**
   * AES-CMAC (RFC 4493) of `message` under the card's unblock key (derived
   * for `card` with SP 800-108). The card key exists only for this call.
   */
  macUnderCardKey(card: CardKeyContext, message: Uint8Array): Promise<Buffer>;
  /**
   * The card's unblock key wrapped with AES Key Wrap (RFC 3394) under the
   * card bureau's transport key, for personalising a new card. Throws
   * CardKeyError when no transport key was configured.
   */
  wrapCardKeyForBureau(card: CardKeyContext): Promise<Buffer>;
  close(): Promise<void>;
}

/** A card key operation that failed. Never carries key material. */
export class CardKeyError extends Error {
  constructor(
    readonly keyLabel: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`card keys under ${keyLabel}: ${message}`, options);
    this.name = 'CardKeyError';
  }
}

/** Derives a card's unblock key with `prf` (AES-CMAC under the master key). The caller zeroes it after use. */
export function deriveCardUnblockKey(prf: KdfPrf, card: CardKeyContext): Promise<Buffer> {
  return counterModeKdf(prf, cardUnblockKdfInput(card));
}

/** Runs `use` with a freshly derived card key and overwrites the key with zeros afterwards, whatever happens. */
export async function withCardKey<T>(derived: Promise<Buffer>, use: (cardKey: Buffer) => T | Promise<T>): Promise<T> {
  const cardKey = await derived;
  try {
    return await use(cardKey);
  } finally {
    cardKey.fill(0);
  }
}

/** The master key in process memory: development and tests only. */
export class SoftwareCardKeyDerivation implements CardKeyDerivation {
  private readonly masterKey: Buffer;
  private readonly transportKey: Buffer | undefined;

  constructor(
    readonly keyLabel: string,
    masterKey: Uint8Array,
    transportKey?: Uint8Array,
  ) {
    if (masterKey.length !== 32 && masterKey.length !== 16) throw new CardKeyError(keyLabel, 'the master key must be AES-128 or AES-256');
    if (transportKey && transportKey.length !== 32 && transportKey.length !== 16) {
      throw new CardKeyError(keyLabel, 'the transport key must be AES-128 or AES-256');
    }
    this.masterKey = Buffer.from(masterKey);
    this.transportKey = transportKey && Buffer.from(transportKey);
  }

  macUnderCardKey(card: CardKeyContext, message: Uint8Array): Promise<Buffer> {
    return withCardKey(this.cardKey(card), (cardKey) => aesCmac(cardKey, message));
  }

  async wrapCardKeyForBureau(card: CardKeyContext): Promise<Buffer> {
    const transportKey = this.transportKey;
    if (!transportKey) throw new CardKeyError(this.keyLabel, 'no bureau transport key is configured');
    return withCardKey(this.cardKey(card), (cardKey) => aesKeyWrap(transportKey, cardKey));
  }

  async close(): Promise<void> {
    this.masterKey.fill(0);
    this.transportKey?.fill(0);
  }

  private cardKey(card: CardKeyContext): Promise<Buffer> {
    return deriveCardUnblockKey(async (input) => aesCmac(this.masterKey, input), card);
  }
}
