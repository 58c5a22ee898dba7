import { readFile } from 'node:fs/promises';
import { openSigner } from '@moica/pki';
import { KeyOpener } from './ca-key-ring';
import { AppConfig } from './config';

/**
 * Opens CA keys by their recorded location (software:... or pkcs11:...) with
 * the secrets of the validated configuration: SOFTWARE_KEY_PASSPHRASE for
 * software keys, PKCS11_PIN for HSM keys. A missing secret is an error that
 * names the key, never the secret.
 */
export function keyOpenerFor(config: AppConfig): KeyOpener {
  return (keyLocation) =>
    openSigner(
      keyLocation,
      { passphrase: config.SOFTWARE_KEY_PASSPHRASE, pin: config.PKCS11_PIN },
      (path) => readFile(path, 'utf8'),
    );
}
