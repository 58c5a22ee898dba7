/**
 * Where the ceremony makes and opens CA keys: in a PKCS#11 token (generated
 * there, non-extractable; see docs/key-ceremony.md) or, for development, as a
 * software key in an encrypted PKCS#8 file. Secrets (the software key
 * passphrase, the token PIN) are values given to these functions; they never
 * appear in a message.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  KeyAlgorithm,
  KeyLocation,
  keyLocationLabel,
  openSigner,
  parseKeyLocation,
  Pkcs11KeyInfo,
  Pkcs11KeyLocation,
  Pkcs11Token,
  Signer,
  SoftwareSigner,
} from '@moica/pki';
import { UndoLog } from './approvals';
import { CeremonyRefused } from './ceremony-errors';
import { keyAlgorithmName } from './ceremony-parameters';

export interface CeremonySecrets {
  /** SOFTWARE_KEY_PASSPHRASE, for software: keys. */
  softwareKeyPassphrase?: string;
  /** PKCS11_PIN, for pkcs11: keys whose location has no pin-source. */
  pkcs11Pin?: string;
}

/** A key the ceremony holds open; close() releases the signer and its token. */
export interface OpenedKey {
  signer: Signer;
  location: KeyLocation;
  /** True when an earlier, failed execution of the same request had generated this HSM key. */
  reused: boolean;
  close(): Promise<void>;
}

/**
 * The token PIN: from the location's `pin-source=file:<path>` when given,
 * otherwise PKCS11_PIN.
 */
export async function resolvePin(location: Pkcs11KeyLocation, secrets: CeremonySecrets): Promise<string> {
  if (location.pinSource !== undefined) {
    if (!location.pinSource.startsWith('file:')) {
      throw new CeremonyRefused('missing-secret', `pin-source "${location.pinSource}" is not supported (use file:<path>)`);
    }
    const path = location.pinSource.slice('file:'.length);
    try {
      const pin = (await readFile(path, 'utf8')).trim();
      if (pin) return pin;
    } catch (cause) {
      throw new CeremonyRefused('missing-secret', `cannot read the PIN file ${path} of token ${location.tokenLabel}`, { cause });
    }
    throw new CeremonyRefused('missing-secret', `the PIN file ${path} of token ${location.tokenLabel} is empty`);
  }
  if (secrets.pkcs11Pin) return secrets.pkcs11Pin;
  throw new CeremonyRefused(
    'missing-secret',
    `no PIN for token ${location.tokenLabel}: set PKCS11_PIN or put pin-source=file:<path> in the key location`,
  );
}

function softwarePassphrase(location: KeyLocation, secrets: CeremonySecrets): string {
  if (!secrets.softwareKeyPassphrase) {
    throw new CeremonyRefused('missing-secret', `no passphrase for ${keyLocationLabel(location)}: set SOFTWARE_KEY_PASSPHRASE`);
  }
  return secrets.softwareKeyPassphrase;
}

/** Opens an existing CA key by its recorded location (the parent signing a child, a CA signing its OCSP signer). */
export async function openCaKey(locationText: string, secrets: CeremonySecrets): Promise<Signer> {
  const location = parseKeyLocation(locationText);
  if (location.kind === 'software') {
    return openSigner(location, { passphrase: softwarePassphrase(location, secrets) }, (path) => readFile(path, 'utf8'));
  }
  return openSigner(location, { pin: await resolvePin(location, secrets) }, (path) => readFile(path, 'utf8'));
}

/**
 * CKA_ID of a key generated for a request: derived from the request id, so
 * that when an execution fails after generating the key (the transaction
 * rolled back, the HSM object stays) a retry of the same request takes that
 * key instead of failing on the label, and no other request ever can.
 */
export function ceremonyKeyId(requestId: string, label: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(`moica-key-ceremony\n${requestId}\n${label}`, 'utf8').digest().subarray(0, 20));
}

/**
 * Creates a new key at `locationText`. PKCS#11: generated in the token
 * (Pkcs11Token.generateKeyPair: sensitive, never extractable, sign only).
 * Software: generated here and written as an encrypted PKCS#8 PEM (mode 600);
 * the file must not exist, and is removed again if the execution fails.
 */
export async function createKey(
  locationText: string,
  keyAlgorithm: KeyAlgorithm,
  requestId: string,
  secrets: CeremonySecrets,
  undo: UndoLog,
): Promise<OpenedKey> {
  const location = parseKeyLocation(locationText);
  if (location.kind === 'software') {
    const passphrase = softwarePassphrase(location, secrets);
    const signer = await SoftwareSigner.generate(keyLocationLabel(location), keyAlgorithm);
    const pem = signer.exportEncryptedPem(passphrase);
    mkdirSync(dirname(location.path), { recursive: true, mode: 0o700 });
    try {
      writeFileSync(location.path, pem, { mode: 0o600, flag: 'wx' });
    } catch (cause) {
      const exists = (cause as NodeJS.ErrnoException).code === 'EEXIST';
      throw new CeremonyRefused(
        'conflict',
        exists ? `${location.path} already exists: a new key never overwrites a file` : `cannot write ${location.path}`,
        { cause },
      );
    }
    undo.push(() => unlinkSync(location.path));
    return { signer, location, reused: false, close: () => signer.close() };
  }

  const token = await Pkcs11Token.open({
    modulePath: location.modulePath,
    tokenLabel: location.tokenLabel,
    pin: await resolvePin(location, secrets),
  });
  try {
    const id = ceremonyKeyId(requestId, location.objectLabel);
    const existing = await token.findKey(location.objectLabel);
    let signer: Signer;
    let reused = false;
    if (existing) {
      if (existing.id !== Buffer.from(id).toString('hex')) {
        throw new CeremonyRefused('conflict', `token ${location.tokenLabel} already holds a key labelled "${location.objectLabel}"`);
      }
      if (!existing.keyAlgorithm || keyAlgorithmName(existing.keyAlgorithm) !== keyAlgorithmName(keyAlgorithm)) {
        throw new CeremonyRefused('conflict', `the key "${location.objectLabel}" left by an earlier attempt is not ${keyAlgorithmName(keyAlgorithm)}`);
      }
      signer = await token.signer(location.objectLabel);
      reused = true;
    } else {
      signer = await token.generateKeyPair(location.objectLabel, keyAlgorithm, { id });
    }
    return {
      signer,
      location,
      reused,
      close: async () => {
        await signer.close();
        await token.close();
      },
    };
  } catch (error) {
    await token.close();
    throw error;
  }
}

export interface TokenInventory {
  modulePath: string;
  tokenLabel: string;
  keys?: Pkcs11KeyInfo[];
  /** Why the token could not be listed (no PIN, wrong PIN, not found). */
  problem?: string;
}

/** The private keys on a token (labels, ids, flags; no secret), or why they could not be read. */
export async function listTokenKeys(location: Pkcs11KeyLocation, secrets: CeremonySecrets): Promise<TokenInventory> {
  const inventory: TokenInventory = { modulePath: location.modulePath, tokenLabel: location.tokenLabel };
  let token: Pkcs11Token | undefined;
  try {
    token = await Pkcs11Token.open({
      modulePath: location.modulePath,
      tokenLabel: location.tokenLabel,
      pin: await resolvePin(location, secrets),
    });
    inventory.keys = await token.listKeys();
  } catch (error) {
    inventory.problem = error instanceof Error ? error.message : String(error);
  } finally {
    await token?.close();
  }
  return inventory;
}
