/**
 * The card unblock protocol (鎖卡解碼, docs/card-unlock.md): what the card
 * and the CA compute, byte for byte. Pure functions, no key handling.
 *
 * Keys. Each card holds an AES-256 unblock key, derived from a master key of
 * version v with NIST SP 800-108r1 counter mode and AES-CMAC as the PRF:
 *
 *   K_card = KDF(K_master(v), Label = "MOICA card unblock key",
 *                Context = cardNumber (ASCII) || [v]_32, L = 256)
 *
 * so one card's key says nothing about another's, and the master key (in the
 * HSM) is all the CA keeps.
 *
 * Exchange. The card makes a fresh 16-byte random challenge and remembers it
 * until one response was checked against it (single use); the card tool
 * sends it, with the holder's national ID, card number and user code, to the
 * CA. The CA answers
 *
 *   response = AES-CMAC(K_card, "MOICA-UNBLOCK-1" || 0x00 || [len(cardNumber)]_8
 *                                || cardNumber || [v]_32 || challenge)
 *
 * and records the challenge as used. The card recomputes the CMAC over its own
 * challenge; when it matches, it resets the PIN retry counter and takes the
 * new PIN the holder typed into the card tool. The new PIN never reaches the
 * CA.
 */
import { randomBytes } from 'node:crypto';
import { CounterKdfInput } from './sp800-108-kdf';

/** SP 800-108 Label of the card unblock key derivation. */
export const CARD_UNBLOCK_KDF_LABEL = 'MOICA card unblock key';
/** Bits of a card unblock key (AES-256). */
export const CARD_UNBLOCK_KEY_BITS = 256;
/** Bytes of the card's challenge. */
export const CARD_UNBLOCK_CHALLENGE_BYTES = 16;
/** Domain separation of the unblock cryptogram (protocol version 1). */
export const CARD_UNBLOCK_MESSAGE_TAG = 'MOICA-UNBLOCK-1';

/** Which card key: the card number and the master key version it was personalised with. */
export interface CardKeyContext {
  cardNumber: string;
  keyVersion: number;
}

/** Card numbers as the API accepts them (8 to 20 upper-case letters or digits). */
const CARD_NUMBER = /^[A-Z0-9]{8,20}$/;

function checkContext(card: CardKeyContext): void {
  if (!CARD_NUMBER.test(card.cardNumber)) throw new RangeError('a card number is 8 to 20 upper-case letters or digits');
  if (!Number.isInteger(card.keyVersion) || card.keyVersion < 1 || card.keyVersion > 0x7fffffff) {
    throw new RangeError(`key version must be a positive 31-bit integer, not ${card.keyVersion}`);
  }
}

function uint32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value);
  return bytes;
}

/** The SP 800-108 input (Label, Context, L) of a card's unblock key. */
export function cardUnblockKdfInput(card: CardKeyContext): CounterKdfInput {
  checkContext(card);
  return {
    label: Buffer.from(CARD_UNBLOCK_KDF_LABEL, 'ascii'),
    context: Buffer.concat([Buffer.from(card.cardNumber, 'ascii'), uint32(card.keyVersion)]),
    lengthBits: CARD_UNBLOCK_KEY_BITS,
  };
}

/** The message the response is the AES-CMAC of. Throws RangeError on a challenge of the wrong size. */
export function cardUnblockMessage(card: CardKeyContext, challenge: Uint8Array): Buffer {
  checkContext(card);
  if (challenge.length !== CARD_UNBLOCK_CHALLENGE_BYTES) {
    throw new RangeError(`a card challenge is ${CARD_UNBLOCK_CHALLENGE_BYTES} bytes, not ${challenge.length}`);
  }
  return Buffer.concat([
    Buffer.from(CARD_UNBLOCK_MESSAGE_TAG, 'ascii'),
    Buffer.from([0x00, card.cardNumber.length]),
    Buffer.from(card.cardNumber, 'ascii'),
    uint32(card.keyVersion),
    challenge,
  ]);
}

/** A fresh challenge, as a card makes one (CSPRNG). */
export function newCardChallenge(): Buffer {
  return randomBytes(CARD_UNBLOCK_CHALLENGE_BYTES);
}
