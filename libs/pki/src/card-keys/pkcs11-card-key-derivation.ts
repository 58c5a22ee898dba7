/**
 * Card unblock keys from a master key in a PKCS#11 token (OASIS PKCS#11
 * v2.40), tested on SoftHSM2.
 *
 * - The master key is an AES-256 secret key generated in the token
 *   (CKM_AES_KEY_GEN): CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE true,
 *   CKA_EXTRACTABLE false, usable for CKM_AES_CMAC signing only. It never
 *   leaves the token.
 * - The SP 800-108 PRF is C_Sign with CKM_AES_CMAC (PKCS#11 v2.40 §2.10.6)
 *   on the master key, so the derivation runs in the token; its output, the
 *   card's unblock key, comes back to this process and lives only for the
 *   one operation (the response CMAC or the wrap), then is zeroed. That is
 *   the honest limit of this design: a compromised CA process could read
 *   the card keys it computes while it computes them, but never the master
 *   key. (SoftHSM2 has no SP 800-108 C_DeriveKey mechanism that would keep
 *   the card key inside; an HSM with CKM_SP800_108_COUNTER_KDF could.)
 * - Bureau export: the card key becomes a session object (never on the
 *   token), is wrapped with C_WrapKey and CKM_AES_KEY_WRAP (RFC 3394) under
 *   the transport key, which is a token key with CKA_WRAP, and destroyed.
 */
import * as pkcs11js from 'pkcs11js';
import { Pkcs11Token } from '../signing/pkcs11-signer';
import { aesCmac } from './aes-cmac';
import { CardKeyContext } from './card-unblock-protocol';
import { CardKeyDerivation, CardKeyError, deriveCardUnblockKey, withCardKey } from './card-key-derivation';

type Handle = pkcs11js.Handle;

export interface Pkcs11CardKeyOptions {
  /** CKA_LABEL of the bureau transport key (an AES key with CKA_WRAP) on the same token. */
  transportKeyLabel?: string;
  /**
   * Accept a master key that was once outside the token (CKA_NEVER_EXTRACTABLE
   * or CKA_ALWAYS_SENSITIVE false), as tests import one with a known value.
   * Default false: a master key must have been generated in the HSM.
   */
  acceptImportedKey?: boolean;
  /** Closing the derivation also closes the token (default false). */
  closeTokenWithDerivation?: boolean;
}

/** What an AES secret key object is allowed to do. */
export type AesKeyUsage = 'cmac' | 'wrap';

const TEMPLATE_FOR: Record<AesKeyUsage, pkcs11js.Template> = {
  cmac: [
    { type: pkcs11js.CKA_SIGN, value: true },
    { type: pkcs11js.CKA_VERIFY, value: false },
    { type: pkcs11js.CKA_WRAP, value: false },
  ],
  wrap: [
    { type: pkcs11js.CKA_SIGN, value: false },
    { type: pkcs11js.CKA_VERIFY, value: false },
    { type: pkcs11js.CKA_WRAP, value: true },
  ],
};

/**
 * Uses a card master key must not have: it computes AES-CMAC (CKA_SIGN) and
 * nothing else, so a token user can derive card keys but not encrypt,
 * decrypt, wrap, unwrap or derive with the master key (least privilege;
 * CKA_DERIVE would let C_DeriveKey make keys of its own choosing from it).
 */
const MASTER_KEY_FORBIDDEN_USES: Array<[number, string]> = [
  [pkcs11js.CKA_ENCRYPT, 'CKA_ENCRYPT'],
  [pkcs11js.CKA_DECRYPT, 'CKA_DECRYPT'],
  [pkcs11js.CKA_WRAP, 'CKA_WRAP'],
  [pkcs11js.CKA_UNWRAP, 'CKA_UNWRAP'],
  [pkcs11js.CKA_DERIVE, 'CKA_DERIVE'],
];

function secretKeyTemplate(label: string, id: Uint8Array, usage: AesKeyUsage): pkcs11js.Template {
  return [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_TOKEN, value: true },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_SENSITIVE, value: true },
    { type: pkcs11js.CKA_EXTRACTABLE, value: false },
    { type: pkcs11js.CKA_LABEL, value: label },
    { type: pkcs11js.CKA_ID, value: Buffer.from(id) },
    { type: pkcs11js.CKA_ENCRYPT, value: false },
    { type: pkcs11js.CKA_DECRYPT, value: false },
    { type: pkcs11js.CKA_UNWRAP, value: false },
    { type: pkcs11js.CKA_DERIVE, value: false },
    ...TEMPLATE_FOR[usage],
  ];
}

function findSecretKeys(pkcs11: pkcs11js.PKCS11, session: Handle, label: string): Handle[] {
  pkcs11.C_FindObjectsInit(session, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_LABEL, value: label },
  ]);
  try {
    return pkcs11.C_FindObjects(session, 10);
  } finally {
    pkcs11.C_FindObjectsFinal(session);
  }
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What the token says about an AES secret key (no secret in it). */
export interface Pkcs11SecretKeyInfo {
  label: string;
  id: string;
  valueBytes: number;
  sensitive: boolean;
  extractable: boolean;
  alwaysSensitive: boolean;
  neverExtractable: boolean;
}

/** The AES secret key labelled `label`, or undefined; several with one label are an error. */
export async function findAesSecretKey(token: Pkcs11Token, label: string): Promise<Pkcs11SecretKeyInfo | undefined> {
  const keyLabel = `pkcs11:${token.tokenLabel}/${label}`;
  return token.withSession((pkcs11, session) => {
    const handles = findSecretKeys(pkcs11, session, label);
    if (handles.length === 0) return undefined;
    if (handles.length > 1) throw new CardKeyError(keyLabel, `${handles.length} secret keys are labelled "${label}"`);
    return describeSecretKey(pkcs11, session, handles[0], label);
  });
}

function describeSecretKey(pkcs11: pkcs11js.PKCS11, session: Handle, key: Handle, label: string): Pkcs11SecretKeyInfo & { keyType: number } {
  const [type, id, length, sensitive, extractable, alwaysSensitive, neverExtractable] = pkcs11.C_GetAttributeValue(session, key, [
    { type: pkcs11js.CKA_KEY_TYPE },
    { type: pkcs11js.CKA_ID },
    { type: pkcs11js.CKA_VALUE_LEN },
    { type: pkcs11js.CKA_SENSITIVE },
    { type: pkcs11js.CKA_EXTRACTABLE },
    { type: pkcs11js.CKA_ALWAYS_SENSITIVE },
    { type: pkcs11js.CKA_NEVER_EXTRACTABLE },
  ]);
  return {
    label,
    id: id.value.toString('hex'),
    keyType: type.value.readUIntLE(0, Math.min(type.value.length, 6)),
    valueBytes: length.value.readUIntLE(0, Math.min(length.value.length, 6)),
    sensitive: sensitive.value[0] === 1,
    extractable: extractable.value[0] === 1,
    alwaysSensitive: alwaysSensitive.value[0] === 1,
    neverExtractable: neverExtractable.value[0] === 1,
  };
}

/**
 * Generates an AES-256 card master key in the token (CKM_AES_KEY_GEN):
 * sensitive, never extractable, CMAC only. Refuses a label in use.
 */
export async function generateCardMasterKey(token: Pkcs11Token, label: string, id: Uint8Array): Promise<void> {
  const keyLabel = `pkcs11:${token.tokenLabel}/${label}`;
  if (label.length === 0) throw new CardKeyError(keyLabel, 'a key label must not be empty');
  if (await findAesSecretKey(token, label)) throw new CardKeyError(keyLabel, `the token already holds a secret key labelled "${label}"`);
  await token.withReadWriteSession(async (pkcs11, session) => {
    let key: Handle;
    try {
      key = await pkcs11.C_GenerateKeyAsync(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
        ...secretKeyTemplate(label, id, 'cmac'),
        { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
      ]);
    } catch (cause) {
      throw new CardKeyError(keyLabel, `key generation failed: ${reason(cause)}`, { cause });
    }
    const info = describeSecretKey(pkcs11, session, key, label);
    if (!info.sensitive || info.extractable || info.valueBytes !== 32) {
      pkcs11.C_DestroyObject(session, key);
      throw new CardKeyError(keyLabel, 'the token did not keep the new key a sensitive, non-extractable AES-256 key');
    }
  });
}

/**
 * Puts an AES key of known value into the token as a sensitive,
 * non-extractable token object: for a bureau transport key entered from its
 * key components, or a test master key. (A production master key is generated
 * with generateCardMasterKey instead; this one is marked as once extractable
 * by the token and refused unless acceptImportedKey is set.)
 */
export async function importAesKey(token: Pkcs11Token, label: string, value: Uint8Array, usage: AesKeyUsage, id: Uint8Array): Promise<void> {
  const keyLabel = `pkcs11:${token.tokenLabel}/${label}`;
  if (value.length !== 16 && value.length !== 32) throw new CardKeyError(keyLabel, 'an AES key is 16 or 32 bytes');
  if (await findAesSecretKey(token, label)) throw new CardKeyError(keyLabel, `the token already holds a secret key labelled "${label}"`);
  await token.withReadWriteSession((pkcs11, session) => {
    try {
      pkcs11.C_CreateObject(session, [...secretKeyTemplate(label, id, usage), { type: pkcs11js.CKA_VALUE, value: Buffer.from(value) }]);
    } catch (cause) {
      throw new CardKeyError(keyLabel, `C_CreateObject failed: ${reason(cause)}`, { cause });
    }
  });
}

/** Card unblock keys derived by an AES master key in a PKCS#11 token. */
export class Pkcs11CardKeyDerivation implements CardKeyDerivation {
  private constructor(
    private readonly token: Pkcs11Token,
    readonly keyLabel: string,
    private readonly masterKey: Handle,
    private readonly transportKey: Handle | undefined,
    private readonly options: Pkcs11CardKeyOptions,
  ) {}

  /**
   * Finds the master key labelled `label` on the open token and checks it: an
   * AES-256 token object, sensitive and non-extractable, allowed to sign
   * (CMAC) and to do nothing else (no encrypt, decrypt, wrap, unwrap or
   * derive); and generated in the token unless acceptImportedKey. The transport key, if
   * named, must be an AES key allowed to wrap.
   */
  static async open(token: Pkcs11Token, label: string, options: Pkcs11CardKeyOptions = {}): Promise<Pkcs11CardKeyDerivation> {
    const keyLabel = `pkcs11:${token.tokenLabel}/${label}`;
    const handles = await token.withSession((pkcs11, session) => {
      const masters = findSecretKeys(pkcs11, session, label);
      if (masters.length !== 1) {
        throw new CardKeyError(keyLabel, masters.length === 0 ? `no secret key labelled "${label}" on token "${token.tokenLabel}"` : 'the label is not unique');
      }
      const info = describeSecretKey(pkcs11, session, masters[0], label);
      const [sign, onToken, ...otherUses] = pkcs11.C_GetAttributeValue(session, masters[0], [
        { type: pkcs11js.CKA_SIGN },
        { type: pkcs11js.CKA_TOKEN },
        ...MASTER_KEY_FORBIDDEN_USES.map(([type]) => ({ type })),
      ]);
      if (info.keyType !== pkcs11js.CKK_AES || info.valueBytes !== 32) throw new CardKeyError(keyLabel, 'the master key must be an AES-256 key');
      if (!info.sensitive || info.extractable) throw new CardKeyError(keyLabel, 'the master key is extractable or not sensitive');
      if (!options.acceptImportedKey && (!info.alwaysSensitive || !info.neverExtractable)) {
        throw new CardKeyError(keyLabel, 'the master key was not generated in the token (imported); refused unless acceptImportedKey is set');
      }
      if (sign.value[0] !== 1) throw new CardKeyError(keyLabel, 'the master key may not sign (CKA_SIGN is false; CMAC needs it)');
      if (onToken.value[0] !== 1) throw new CardKeyError(keyLabel, 'the master key is a session object, not a token object (CKA_TOKEN is false)');
      const allowed = MASTER_KEY_FORBIDDEN_USES.filter((_use, i) => otherUses[i].value[0] === 1).map(([, name]) => name);
      if (allowed.length > 0) throw new CardKeyError(keyLabel, `the master key may be used for more than CMAC (${allowed.join(', ')} true)`);
      let transport: Handle | undefined;
      if (options.transportKeyLabel !== undefined) {
        const transports = findSecretKeys(pkcs11, session, options.transportKeyLabel);
        if (transports.length !== 1) throw new CardKeyError(keyLabel, `no unique transport key labelled "${options.transportKeyLabel}"`);
        const [wrap, keyType] = pkcs11.C_GetAttributeValue(session, transports[0], [{ type: pkcs11js.CKA_WRAP }, { type: pkcs11js.CKA_KEY_TYPE }]);
        if (wrap.value[0] !== 1 || keyType.value.readUIntLE(0, Math.min(keyType.value.length, 6)) !== pkcs11js.CKK_AES) {
          throw new CardKeyError(keyLabel, `the transport key "${options.transportKeyLabel}" is not an AES key allowed to wrap`);
        }
        transport = transports[0];
      }
      return { master: masters[0], transport };
    });
    return new Pkcs11CardKeyDerivation(token, keyLabel, handles.master, handles.transport, options);
  }

  macUnderCardKey(card: CardKeyContext, message: Uint8Array): Promise<Buffer> {
    return withCardKey(this.cardKey(card), (cardKey) => aesCmac(cardKey, message));
  }

  async wrapCardKeyForBureau(card: CardKeyContext): Promise<Buffer> {
    const transportKey = this.transportKey;
    if (transportKey === undefined) throw new CardKeyError(this.keyLabel, 'no bureau transport key is configured');
    try {
      return await withCardKey(this.cardKey(card), (cardKey) =>
        this.token.withSession((pkcs11, session) => {
          // A session object: gone with the session at the latest, never on the token (CKA_TOKEN false).
          const object = pkcs11.C_CreateObject(session, [
            { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
            { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
            { type: pkcs11js.CKA_TOKEN, value: false },
            { type: pkcs11js.CKA_SENSITIVE, value: true },
            { type: pkcs11js.CKA_EXTRACTABLE, value: true },
            { type: pkcs11js.CKA_VALUE, value: cardKey },
          ]);
          try {
            return pkcs11.C_WrapKey(session, { mechanism: pkcs11js.CKM_AES_KEY_WRAP }, transportKey, object, Buffer.alloc(cardKey.length + 8));
          } finally {
            pkcs11.C_DestroyObject(session, object);
          }
        }),
      );
    } catch (cause) {
      if (cause instanceof CardKeyError) throw cause;
      throw new CardKeyError(this.keyLabel, `wrapping the card key failed: ${reason(cause)}`, { cause });
    }
  }

  async close(): Promise<void> {
    if (this.options.closeTokenWithDerivation) await this.token.close();
  }

  private async cardKey(card: CardKeyContext): Promise<Buffer> {
    try {
      return await deriveCardUnblockKey(
        (input) =>
          this.token.withSession(async (pkcs11, session) => {
            pkcs11.C_SignInit(session, { mechanism: pkcs11js.CKM_AES_CMAC }, this.masterKey);
            return pkcs11.C_SignAsync(session, Buffer.from(input), Buffer.alloc(16));
          }),
        card,
      );
    } catch (cause) {
      if (cause instanceof RangeError) throw cause;
      throw new CardKeyError(this.keyLabel, `C_Sign (CKM_AES_CMAC) failed: ${reason(cause)}`, { cause });
    }
  }
}
