import { createPrivateKey, createPublicKey, generateKeyPair, KeyObject, webcrypto } from 'node:crypto';
import { promisify } from 'node:util';
import { ecdsaRawToDer } from './der';
import { KeyAlgorithm, SignatureAlgorithm, Signer, SigningError, signatureAlgorithmFor } from './signer';

const generateKeyPairAsync = promisify(generateKeyPair);

/**
 * A CA key held in process memory, for development and tests. At rest it is a
 * PKCS#8 PEM encrypted with AES-256-CBC under a passphrase (RFC 8018 PBES2);
 * the file is clearly a development key and never a production choice.
 */
export class SoftwareSigner implements Signer {
  readonly signatureAlgorithm: SignatureAlgorithm;
  readonly publicKeySpki: Uint8Array;
  /**
   * The same key for WebCrypto: subtle.sign runs in libuv's thread pool, so
   * signatures do not block the event loop and use every core.
   */
  private readonly cryptoKey: Promise<webcrypto.CryptoKey>;

  private constructor(
    readonly keyLabel: string,
    readonly keyAlgorithm: KeyAlgorithm,
    private readonly privateKey: KeyObject,
  ) {
    this.signatureAlgorithm = signatureAlgorithmFor(keyAlgorithm);
    this.publicKeySpki = new Uint8Array(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }));
    const algorithm =
      keyAlgorithm.kind === 'RSA'
        ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
        : { name: 'ECDSA', namedCurve: keyAlgorithm.curve };
    this.cryptoKey = Promise.resolve(privateKey.toCryptoKey(algorithm, false, ['sign']) as webcrypto.CryptoKey);
    this.cryptoKey.catch(() => undefined);
  }

  /** Generates a fresh key pair. */
  static async generate(keyLabel: string, keyAlgorithm: KeyAlgorithm): Promise<SoftwareSigner> {
    const { privateKey } =
      keyAlgorithm.kind === 'RSA'
        ? await generateKeyPairAsync('rsa', { modulusLength: keyAlgorithm.modulusBits, publicExponent: 65537 })
        : await generateKeyPairAsync('ec', { namedCurve: keyAlgorithm.curve === 'P-256' ? 'prime256v1' : 'secp384r1' });
    return new SoftwareSigner(keyLabel, keyAlgorithm, privateKey);
  }

  /** Loads a key written by {@link exportEncryptedPem}. A wrong passphrase is an error naming the key. */
  static fromEncryptedPem(keyLabel: string, pem: string, passphrase: string): SoftwareSigner {
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey({ key: pem, format: 'pem', passphrase });
    } catch (cause) {
      throw new SigningError(keyLabel, 'cannot decrypt the private key (wrong passphrase or not a PKCS#8 key)', {
        cause,
      });
    }
    return new SoftwareSigner(keyLabel, describeKey(keyLabel, privateKey), privateKey);
  }

  /** The private key as an encrypted PKCS#8 PEM. */
  exportEncryptedPem(passphrase: string): string {
    if (passphrase.length < 8) throw new Error(`passphrase for ${this.keyLabel} must have at least 8 characters`);
    return this.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }).toString();
  }

  async sign(data: Uint8Array): Promise<Uint8Array> {
    try {
      const key = await this.cryptoKey;
      if (this.keyAlgorithm.kind === 'RSA') return new Uint8Array(await webcrypto.subtle.sign('RSASSA-PKCS1-v1_5', key, data));
      const hash = this.signatureAlgorithm === 'ecdsaWithSHA384' ? 'SHA-384' : 'SHA-256';
      // WebCrypto gives r||s; X.509 carries the DER Ecdsa-Sig-Value (RFC 3279 §2.2.3).
      return ecdsaRawToDer(new Uint8Array(await webcrypto.subtle.sign({ name: 'ECDSA', hash }, key, data)));
    } catch (cause) {
      throw new SigningError(this.keyLabel, 'the signature failed', { cause });
    }
  }

  async close(): Promise<void> {
    // Nothing to release: the key lives in this process's memory.
  }
}

function describeKey(keyLabel: string, key: KeyObject): KeyAlgorithm {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa' && details?.modulusLength) {
    const bits = details.modulusLength;
    if (bits === 2048 || bits === 3072 || bits === 4096) return { kind: 'RSA', modulusBits: bits };
    throw new SigningError(keyLabel, `RSA key of ${bits} bits is not allowed (2048, 3072 or 4096)`);
  }
  if (key.asymmetricKeyType === 'ec') {
    if (details?.namedCurve === 'prime256v1') return { kind: 'EC', curve: 'P-256' };
    if (details?.namedCurve === 'secp384r1') return { kind: 'EC', curve: 'P-384' };
    throw new SigningError(keyLabel, `EC curve ${details?.namedCurve} is not allowed (P-256 or P-384)`);
  }
  throw new SigningError(keyLabel, `key type ${key.asymmetricKeyType} is not allowed (RSA or EC)`);
}
