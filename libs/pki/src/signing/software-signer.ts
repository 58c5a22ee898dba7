import { createPrivateKey, createPublicKey, generateKeyPair, KeyObject, sign as cryptoSign } from 'node:crypto';
import { promisify } from 'node:util';
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
   * RSA: yes. OpenSSL (3.5, crypto/rsa/rsa_ossl.c, rsa_ossl_mod_exp) checks
   * every CRT result by re-encrypting it with e mod n and falls back to a
   * plain exponentiation when the check fails. ECDSA: no, the caller verifies.
   */
  readonly checksItsSignatures: boolean;
  /** The digest of the signature algorithm (RFC 4055 §5, RFC 5758 §3.2). */
  private readonly hash: 'sha256' | 'sha384';

  private constructor(
    readonly keyLabel: string,
    readonly keyAlgorithm: KeyAlgorithm,
    private readonly privateKey: KeyObject,
  ) {
    this.signatureAlgorithm = signatureAlgorithmFor(keyAlgorithm);
    this.publicKeySpki = new Uint8Array(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }));
    this.hash = this.signatureAlgorithm === 'ecdsaWithSHA384' ? 'sha384' : 'sha256';
    this.checksItsSignatures = keyAlgorithm.kind === 'RSA';
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

  /**
   * node:crypto's sign with a callback runs in libuv's thread pool, so a
   * signature does not block the event loop and the pool uses every core.
   * It costs less CPU per signature than WebCrypto's subtle.sign, which
   * does the same work behind a job promise and a CryptoKey. RSA keys sign
   * with PKCS#1 v1.5 (the default padding of an RSA KeyObject); ECDSA
   * signatures come as the DER Ecdsa-Sig-Value X.509 carries (RFC 3279
   * §2.2.3), node's default dsaEncoding.
   */
  sign(data: Uint8Array): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      const failed = (cause: unknown) => reject(new SigningError(this.keyLabel, 'the signature failed', { cause }));
      try {
        cryptoSign(this.hash, data, this.privateKey, (error, signature) => {
          if (error) failed(error);
          else resolve(new Uint8Array(signature.buffer, signature.byteOffset, signature.byteLength));
        });
      } catch (cause) {
        failed(cause);
      }
    });
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
