/**
 * Opens a CardKeyDerivation from key locations (the syntax of
 * signing/key-location.ts): `software:<path>` is an encrypted AES key file
 * (software-aes-key.ts), `pkcs11:token=..;object=..?module-path=..` an AES
 * secret key in a token. The bureau transport key, when given, must be of the
 * same kind, and for PKCS#11 on the same token (C_WrapKey wraps one token
 * object under another).
 */
import { KeyLocation, KeySecrets, keyLocationLabel, parseKeyLocation, ReadKeyFile } from '../signing/key-location';
import { Pkcs11Token } from '../signing/pkcs11-signer';
import { CardKeyDerivation, CardKeyError, SoftwareCardKeyDerivation } from './card-key-derivation';
import { Pkcs11CardKeyDerivation } from './pkcs11-card-key-derivation';
import { decryptAesKeyFile } from './software-aes-key';

export interface OpenCardKeyDerivationOptions {
  /** See Pkcs11CardKeyOptions.acceptImportedKey (tests only). */
  acceptImportedKey?: boolean;
}

export async function openCardKeyDerivation(
  masterLocation: KeyLocation | string,
  transportLocation: KeyLocation | string | undefined,
  secrets: KeySecrets,
  readFile: ReadKeyFile,
  options: OpenCardKeyDerivationOptions = {},
): Promise<CardKeyDerivation> {
  const master = typeof masterLocation === 'string' ? parseKeyLocation(masterLocation) : masterLocation;
  const transport = typeof transportLocation === 'string' ? parseKeyLocation(transportLocation) : transportLocation;
  const keyLabel = keyLocationLabel(master);
  if (transport && transport.kind !== master.kind) {
    throw new CardKeyError(keyLabel, 'the transport key must be in the same kind of key store as the master key');
  }
  if (master.kind === 'software') {
    if (!secrets.passphrase) throw new CardKeyError(keyLabel, 'no passphrase was given for the software key');
    const read = async (path: string) => {
      try {
        const content = await readFile(path);
        return decryptAesKeyFile(typeof content === 'string' ? content : Buffer.from(content).toString('utf8'), secrets.passphrase as string);
      } catch (cause) {
        throw new CardKeyError(keyLabel, `cannot open ${path}: ${(cause as Error).message}`, { cause });
      }
    };
    const masterKey = await read(master.path);
    const transportKey = transport?.kind === 'software' ? await read(transport.path) : undefined;
    try {
      return new SoftwareCardKeyDerivation(keyLabel, masterKey, transportKey);
    } finally {
      masterKey.fill(0);
      transportKey?.fill(0);
    }
  }
  if (transport?.kind === 'pkcs11' && (transport.modulePath !== master.modulePath || transport.tokenLabel !== master.tokenLabel)) {
    throw new CardKeyError(keyLabel, 'the transport key must be on the same token as the master key');
  }
  if (!secrets.pin) throw new CardKeyError(keyLabel, 'no PIN was given for the PKCS#11 token');
  const token = await Pkcs11Token.open({ modulePath: master.modulePath, tokenLabel: master.tokenLabel, pin: secrets.pin });
  try {
    return await Pkcs11CardKeyDerivation.open(token, master.objectLabel, {
      transportKeyLabel: transport?.kind === 'pkcs11' ? transport.objectLabel : undefined,
      acceptImportedKey: options.acceptImportedKey,
      closeTokenWithDerivation: true,
    });
  } catch (error) {
    await token.close();
    throw error;
  }
}
