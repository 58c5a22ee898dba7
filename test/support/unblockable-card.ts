/**
 * A software model of the card side of card unlock (docs/card-unlock.md):
 * the PIN with three tries, the unblock key the bureau wrote into the card,
 * single-use challenges, verification of the CA's response, and the PIN
 * reset. What a real card's applet does, for the tests only.
 */
import { aesCmacVerify, aesKeyUnwrap, CardKeyContext, cardUnblockMessage, newCardChallenge } from '@moica/pki';

export const PIN_TRIES = 3;

export class UnblockableCard {
  private pinTriesLeft = PIN_TRIES;
  private pendingChallenge: Buffer | undefined;

  private constructor(
    readonly cardNumber: string,
    readonly keyVersion: number,
    private readonly unblockKey: Buffer,
    private pin: string,
  ) {}

  /** Personalisation at the bureau: the key arrives wrapped under the transport key (RFC 3394). */
  static personalise(export_: { cardNumber: string; keyVersion: number; wrappedKey: string }, transportKey: Uint8Array, pin: string): UnblockableCard {
    const key = aesKeyUnwrap(transportKey, Buffer.from(export_.wrappedKey, 'base64'));
    return new UnblockableCard(export_.cardNumber, export_.keyVersion, key, pin);
  }

  get locked(): boolean {
    return this.pinTriesLeft === 0;
  }

  /** VERIFY PIN: three wrong PINs in a row lock the card (DOMAIN.md). */
  verifyPin(pin: string): boolean {
    if (this.locked) return false;
    if (pin === this.pin) {
      this.pinTriesLeft = PIN_TRIES;
      return true;
    }
    this.pinTriesLeft--;
    return false;
  }

  /** GET CHALLENGE: a fresh challenge, replacing any earlier one. */
  challenge(): Buffer {
    this.pendingChallenge = newCardChallenge();
    return Buffer.from(this.pendingChallenge);
  }

  /**
   * RESET RETRY COUNTER with the CA's response and a new PIN. The pending
   * challenge is consumed by this call whatever the outcome, so a response is
   * accepted at most once.
   */
  unblock(responseHex: string, newPin: string): boolean {
    const challenge = this.pendingChallenge;
    this.pendingChallenge = undefined;
    if (!challenge || !/^[0-9a-f]{32}$/i.test(responseHex)) return false;
    const context: CardKeyContext = { cardNumber: this.cardNumber, keyVersion: this.keyVersion };
    if (!aesCmacVerify(this.unblockKey, cardUnblockMessage(context, challenge), Buffer.from(responseHex, 'hex'))) return false;
    this.pin = newPin;
    this.pinTriesLeft = PIN_TRIES;
    return true;
  }
}
