/**
 * CA keys in a hardware security module, through PKCS#11 (OASIS PKCS#11
 * v2.40 base specification) and the `pkcs11js` binding.
 *
 * - Keys are generated inside the token and stay there: CKA_TOKEN, CKA_PRIVATE,
 *   CKA_SENSITIVE true and CKA_EXTRACTABLE false (PKCS#11 v2.40 §4.9). A key
 *   that is extractable or not sensitive is refused for signing.
 * - One token is opened once per process and logged in once (the login state
 *   belongs to the application, PKCS#11 v2.40 §5.6); signatures run on a pool
 *   of sessions, because one session carries one operation at a time
 *   (§5.2), and `C_Sign` runs off the event loop (pkcs11js `C_SignAsync`).
 * - RSA: CKM_SHA256_RSA_PKCS (default) or CKM_RSA_PKCS over a DigestInfo
 *   hashed here (RFC 8017 §9.2), which spares the HSM link a 20 MB CRL.
 *   ECDSA: CKM_ECDSA over the hash computed here; the raw r||s the token
 *   returns (PKCS#11 v2.40 §2.3.1) becomes the DER Ecdsa-Sig-Value that X.509
 *   carries (RFC 3279 §2.2.3).
 * - Every signature is verified with the public key before it is returned,
 *   so a faulty HSM can never make the CA publish a bad signature.
 */
import {
  createHash,
  createPublicKey,
  KeyObject,
  randomBytes,
  timingSafeEqual,
  verify as cryptoVerify,
} from 'node:crypto';
import * as pkcs11js from 'pkcs11js';
import { OID } from '../oids';
import { DER_NULL, derBitString, derObjectIdentifier, derSequence, derUnsignedInteger, ecdsaRawToDer, readDerHeader } from './der';
import { SessionPool } from './session-pool';
import { KeyAlgorithm, SignatureAlgorithm, Signer, SigningError, signatureAlgorithmFor } from './signer';

type Handle = pkcs11js.Handle;

/** How to reach a token. The PIN is a value: the caller reads it from its secret store. */
export interface Pkcs11TokenOptions {
  /** Path of the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so. */
  modulePath: string;
  /** CKA token label (TokenInfo.label, without the blank padding). */
  tokenLabel: string;
  /** The user (CKU_USER) PIN. Never logged, never part of an error. */
  pin: string;
  /** Sessions kept open for concurrent signatures (default 4, like libuv's thread pool). */
  sessionPoolSize?: number;
}

/** Which PKCS#11 mechanism signs with an RSA key. */
export type RsaSignMechanism = 'CKM_SHA256_RSA_PKCS' | 'CKM_RSA_PKCS';

export interface Pkcs11SignerOptions {
  /** Default CKM_SHA256_RSA_PKCS: the HSM hashes. CKM_RSA_PKCS: the hash is computed here. */
  rsaMechanism?: RsaSignMechanism;
  /** Verify each signature with the public key before returning it (default true). */
  verifyEachSignature?: boolean;
  /**
   * Accept a key that was once outside the token (CKA_ALWAYS_SENSITIVE or
   * CKA_NEVER_EXTRACTABLE false, e.g. imported with softhsm2-util --import).
   * Default false: a CA key must have been generated in the HSM.
   */
  acceptImportedKey?: boolean;
  /** Closing the signer also closes the token (default false; true for {@link openPkcs11Signer}). */
  closeTokenWithSigner?: boolean;
}

/** What the token says about one private key (no secret in it). */
export interface Pkcs11KeyInfo {
  label: string;
  /** CKA_ID, lowercase hex. */
  id: string;
  /** The key's algorithm, or undefined when it is not one a CA key may use. */
  keyAlgorithm: KeyAlgorithm | undefined;
  /** Why keyAlgorithm is undefined. */
  unsupportedReason?: string;
  sensitive: boolean;
  extractable: boolean;
  alwaysSensitive: boolean;
  neverExtractable: boolean;
  hasPublicKeyObject: boolean;
}

const CURVES = {
  'P-256': { oid: OID.secp256r1, coordinateBytes: 32, hash: 'sha256' },
  'P-384': { oid: OID.secp384r1, coordinateBytes: 48, hash: 'sha384' },
} as const;

// DigestInfo prefix for SHA-256 (RFC 8017 §9.2 note 1).
const SHA256_DIGEST_INFO_PREFIX = Buffer.from('3031300d060960864801650304020105000420', 'hex');

// ---------------------------------------------------------------------------
// Module loading: C_Initialize once per module per process (PKCS#11 v2.40 §5.4).

interface LoadedModule {
  readonly pkcs11: pkcs11js.PKCS11;
  references: number;
  readonly ownsInitialization: boolean;
  /**
   * Tokens this process has logged in to, by slot. The login state belongs to
   * the application, not the session (PKCS#11 v2.40 §5.6): a second open of a
   * logged-in token would get CKR_USER_ALREADY_LOGGED_IN whatever PIN it
   * gives, so it must present the PIN that succeeded.
   */
  readonly logins: Map<string, { pinDigest: Buffer; users: number; ready: Promise<void> }>;
}

const loadedModules = new Map<string, LoadedModule>();

function acquireModule(modulePath: string, errorLabel: string): LoadedModule {
  const existing = loadedModules.get(modulePath);
  if (existing) {
    existing.references++;
    return existing;
  }
  const pkcs11 = new pkcs11js.PKCS11();
  try {
    pkcs11.load(modulePath);
  } catch (cause) {
    throw new SigningError(errorLabel, `cannot load the PKCS#11 module ${modulePath}: ${reason(cause)}`, { cause });
  }
  let ownsInitialization = true;
  try {
    // CKF_OS_LOCKING_OK: sessions are used from libuv worker threads.
    pkcs11.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  } catch (cause) {
    if (pkcs11ErrorCode(cause) === pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
      ownsInitialization = false;
    } else {
      closeQuietly(() => pkcs11.close());
      throw new SigningError(errorLabel, `C_Initialize of ${modulePath} failed: ${reason(cause)}`, { cause });
    }
  }
  const loaded: LoadedModule = { pkcs11, references: 1, ownsInitialization, logins: new Map() };
  loadedModules.set(modulePath, loaded);
  return loaded;
}

function releaseModule(modulePath: string): void {
  const loaded = loadedModules.get(modulePath);
  if (!loaded) return;
  loaded.references--;
  if (loaded.references > 0) return;
  loadedModules.delete(modulePath);
  if (loaded.ownsInitialization) closeQuietly(() => loaded.pkcs11.C_Finalize());
  closeQuietly(() => loaded.pkcs11.close());
}

// ---------------------------------------------------------------------------
// Token

/**
 * An opened, logged-in PKCS#11 token. Opening the same module twice in one
 * process shares the loaded module. Close it when done (it closes its
 * sessions and, with the last user, finalizes the module).
 */
export class Pkcs11Token {
  private readonly pool: SessionPool<Handle>;
  private closed = false;

  private constructor(
    private readonly module: LoadedModule,
    private readonly modulePath: string,
    readonly tokenLabel: string,
    private readonly slot: Handle,
    private readonly pin: string,
    poolSize: number,
  ) {
    this.pool = new SessionPool(
      () => this.openLoggedInSession(pkcs11js.CKF_SERIAL_SESSION),
      (session) => this.module.pkcs11.C_CloseSession(session),
      poolSize,
    );
  }

  /** Loads the module, finds the token by label and logs in with the user PIN. */
  static async open(options: Pkcs11TokenOptions): Promise<Pkcs11Token> {
    const errorLabel = `pkcs11:${options.tokenLabel}`;
    const poolSize = options.sessionPoolSize ?? 4;
    if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 64) {
      throw new SigningError(errorLabel, `session pool size must be 1 to 64, not ${poolSize}`);
    }
    const module = acquireModule(options.modulePath, errorLabel);
    try {
      const slot = findSlot(module.pkcs11, options.tokenLabel, errorLabel);
      const slotKey = slot.toString('hex');
      const pinDigest = createHash('sha256').update(options.pin).digest();
      const token = new Pkcs11Token(module, options.modulePath, options.tokenLabel, slot, options.pin, poolSize);
      for (;;) {
        const login = module.logins.get(slotKey);
        if (!login) {
          // Log in now, so that a wrong PIN fails at start-up and not at the first signature.
          // The entry is registered before the first await, so a concurrent open waits for this login.
          const entry = { pinDigest, users: 1, ready: token.pool.use(() => undefined) };
          module.logins.set(slotKey, entry);
          try {
            await entry.ready;
          } catch (error) {
            if (module.logins.get(slotKey) === entry) module.logins.delete(slotKey);
            throw error;
          }
          break;
        }
        const loggedIn = await login.ready.then(
          () => true,
          () => false,
        );
        if (!loggedIn) {
          // That login failed (e.g. its PIN was wrong); try ours.
          if (module.logins.get(slotKey) === login) module.logins.delete(slotKey);
          continue;
        }
        if (!timingSafeEqual(login.pinDigest, pinDigest)) throw new SigningError(errorLabel, 'the PIN is wrong');
        login.users++;
        break;
      }
      return token;
    } catch (error) {
      releaseModule(options.modulePath);
      throw error;
    }
  }

  /**
   * Generates a key pair inside the token: the private key is a token object,
   * private, sensitive, never extractable, and may only sign (PKCS#11 v2.40
   * §4.9, §2.1.4 / §2.3.3). Refuses a label already in use on the token.
   */
  async generateKeyPair(
    label: string,
    keyAlgorithm: KeyAlgorithm,
    options: { id?: Uint8Array } & Pkcs11SignerOptions = {},
  ): Promise<Pkcs11Signer> {
    const keyLabel = this.keyLabelFor(label);
    assertKeyAlgorithm(keyLabel, keyAlgorithm);
    if (label.length === 0) throw new SigningError(keyLabel, 'a key label must not be empty');
    const existing = await this.guard(keyLabel, 'looking for the label', () =>
      this.pool.use((session) => this.findObjects(session, [{ type: pkcs11js.CKA_LABEL, value: label }])),
    );
    if (existing.length > 0) {
      throw new SigningError(keyLabel, `the token already holds ${existing.length} object(s) labelled "${label}"`);
    }
    const id = Buffer.from(options.id ?? randomBytes(20));
    const pkcs11 = this.module.pkcs11;
    const common = [
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_LABEL, value: label },
      { type: pkcs11js.CKA_ID, value: id },
    ];
    const publicTemplate: pkcs11js.Template = [
      ...common,
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
      { type: pkcs11js.CKA_PRIVATE, value: false },
      { type: pkcs11js.CKA_VERIFY, value: true },
      { type: pkcs11js.CKA_ENCRYPT, value: false },
      { type: pkcs11js.CKA_WRAP, value: false },
    ];
    const privateTemplate: pkcs11js.Template = [
      ...common,
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
      { type: pkcs11js.CKA_SIGN, value: true },
      { type: pkcs11js.CKA_DECRYPT, value: false },
      { type: pkcs11js.CKA_UNWRAP, value: false },
      { type: pkcs11js.CKA_DERIVE, value: false },
    ];
    let mechanism: number;
    if (keyAlgorithm.kind === 'RSA') {
      mechanism = pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN;
      publicTemplate.push(
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_RSA },
        { type: pkcs11js.CKA_MODULUS_BITS, value: keyAlgorithm.modulusBits },
        { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from([0x01, 0x00, 0x01]) },
      );
      privateTemplate.push({ type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_RSA });
    } else {
      mechanism = pkcs11js.CKM_EC_KEY_PAIR_GEN;
      publicTemplate.push(
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
        { type: pkcs11js.CKA_EC_PARAMS, value: Buffer.from(derObjectIdentifier(CURVES[keyAlgorithm.curve].oid)) },
      );
      privateTemplate.push({ type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC });
    }
    // Token objects need a read-write session (PKCS#11 v2.40 §5.6).
    const session = this.openLoggedInSession(pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    try {
      const pair = await pkcs11.C_GenerateKeyPairAsync(session, { mechanism }, publicTemplate, privateTemplate);
      const flags = readKeyFlags(pkcs11, session, pair.privateKey);
      if (!flags.sensitive || flags.extractable) {
        closeQuietly(() => pkcs11.C_DestroyObject(session, pair.privateKey));
        closeQuietly(() => pkcs11.C_DestroyObject(session, pair.publicKey));
        throw new SigningError(keyLabel, 'the token did not keep the new key sensitive and non-extractable');
      }
    } catch (cause) {
      if (cause instanceof SigningError) throw cause;
      throw new SigningError(keyLabel, `key pair generation failed: ${reason(cause)}`, { cause });
    } finally {
      closeQuietly(() => pkcs11.C_CloseSession(session));
    }
    return this.signer(label, options);
  }

  /** The private key labelled `label`, or undefined. Several keys with one label are an error. */
  async findKey(label: string): Promise<Pkcs11KeyInfo | undefined> {
    const keyLabel = this.keyLabelFor(label);
    return this.guard(keyLabel, 'looking up the key', () =>
      this.pool.use((session) => {
        const handles = this.findPrivateKeys(session, label);
        if (handles.length === 0) return undefined;
        if (handles.length > 1) {
          throw new SigningError(keyLabel, `${handles.length} private keys are labelled "${label}"; labels must be unique`);
        }
        return this.describeKey(session, handles[0]);
      }),
    );
  }

  /** Every private key on the token (for the key ceremony's inventory). */
  async listKeys(): Promise<Pkcs11KeyInfo[]> {
    return this.guard(`pkcs11:${this.tokenLabel}`, 'listing keys', () =>
      this.pool.use((session) =>
        this.findObjects(session, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY }])
          .map((handle) => this.describeKey(session, handle))
          .sort((a, b) => a.label.localeCompare(b.label)),
      ),
    );
  }

  /** DER SubjectPublicKeyInfo of the key labelled `label` (RFC 5280 §4.1.2.7, RFC 3279, RFC 5480). */
  async publicKeySpki(label: string): Promise<Uint8Array> {
    const keyLabel = this.keyLabelFor(label);
    return this.guard(keyLabel, 'reading the public key', () =>
      this.pool.use((session) => {
        const privateKey = this.uniquePrivateKey(session, label, keyLabel);
        const [idAttr] = this.module.pkcs11.C_GetAttributeValue(session, privateKey, [{ type: pkcs11js.CKA_ID }]);
        const publicKey = this.findPublicKey(session, label, idAttr.value);
        return readPublicKey(this.module.pkcs11, session, privateKey, publicKey, keyLabel).spki;
      }),
    );
  }

  /**
   * A Signer for the private key labelled `label`. The key must be sensitive,
   * non-extractable and allowed to sign. The signer uses this token's session
   * pool; closing the signer leaves the token open.
   */
  async signer(label: string, options: Pkcs11SignerOptions = {}): Promise<Pkcs11Signer> {
    const keyLabel = this.keyLabelFor(label);
    const loaded = await this.guard(keyLabel, 'opening the key', () =>
      this.pool.use((session) => this.loadKey(session, label, keyLabel, options.acceptImportedKey ?? false)),
    );
    return new Pkcs11Signer(this, keyLabel, loaded.keyAlgorithm, loaded.spki, loaded.privateKey, options);
  }

  /** Closes the sessions; the last user of the module finalizes it. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pool.closeAll();
    const slotKey = this.slot.toString('hex');
    const login = this.module.logins.get(slotKey);
    // With our last session closed the token logs the application out (PKCS#11 v2.40 §5.6).
    if (login && --login.users === 0) this.module.logins.delete(slotKey);
    releaseModule(this.modulePath);
  }

  /** @internal Runs a C_SignInit/C_Sign pair on a pooled session. */
  async signOnSession(privateKey: Handle, mechanism: number, input: Buffer, maxOutput: number): Promise<Buffer> {
    const pkcs11 = this.module.pkcs11;
    return this.pool.use(async (session) => {
      pkcs11.C_SignInit(session, { mechanism }, privateKey);
      return pkcs11.C_SignAsync(session, input, Buffer.alloc(maxOutput));
    });
  }

  /**
   * @internal Runs `work` on a pooled, logged-in session: for the secret-key
   * operations of libs/pki/src/card-keys (C_Sign with CKM_AES_CMAC,
   * C_WrapKey), which share this token's login and session pool.
   */
  async withSession<T>(work: (pkcs11: pkcs11js.PKCS11, session: Handle) => Promise<T> | T): Promise<T> {
    return this.pool.use((session) => work(this.module.pkcs11, session));
  }

  /** @internal Runs `work` on a fresh read-write session (token objects need one, §5.6), closed afterwards. */
  async withReadWriteSession<T>(work: (pkcs11: pkcs11js.PKCS11, session: Handle) => Promise<T> | T): Promise<T> {
    const session = this.openLoggedInSession(pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    try {
      return await work(this.module.pkcs11, session);
    } finally {
      closeQuietly(() => this.module.pkcs11.C_CloseSession(session));
    }
  }

  private keyLabelFor(label: string): string {
    return `pkcs11:${this.tokenLabel}/${label}`;
  }

  private async guard<T>(keyLabel: string, what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (cause) {
      if (cause instanceof SigningError) throw cause;
      throw new SigningError(keyLabel, `${what} failed: ${reason(cause)}`, { cause });
    }
  }

  private openLoggedInSession(flags: number): Handle {
    const pkcs11 = this.module.pkcs11;
    const errorLabel = `pkcs11:${this.tokenLabel}`;
    let session: Handle;
    try {
      session = pkcs11.C_OpenSession(this.slot, flags);
    } catch (cause) {
      throw new SigningError(errorLabel, `cannot open a session: ${reason(cause)}`, { cause });
    }
    try {
      pkcs11.C_Login(session, pkcs11js.CKU_USER, this.pin);
    } catch (cause) {
      const code = pkcs11ErrorCode(cause);
      if (code !== pkcs11js.CKR_USER_ALREADY_LOGGED_IN) {
        closeQuietly(() => pkcs11.C_CloseSession(session));
        const message =
          code === pkcs11js.CKR_PIN_INCORRECT
            ? 'the PIN is wrong (the token may lock after more wrong PINs)'
            : code === pkcs11js.CKR_PIN_LOCKED
              ? 'the user PIN is locked; the security officer must reset it'
              : `login failed: ${reason(cause)}`;
        throw new SigningError(errorLabel, message, { cause });
      }
    }
    return session;
  }

  private findObjects(session: Handle, template: pkcs11js.Template): Handle[] {
    const pkcs11 = this.module.pkcs11;
    pkcs11.C_FindObjectsInit(session, template);
    try {
      const found: Handle[] = [];
      for (;;) {
        const batch = pkcs11.C_FindObjects(session, 100);
        found.push(...batch);
        if (batch.length < 100) return found;
      }
    } finally {
      pkcs11.C_FindObjectsFinal(session);
    }
  }

  private findPrivateKeys(session: Handle, label: string): Handle[] {
    return this.findObjects(session, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
      { type: pkcs11js.CKA_LABEL, value: label },
    ]);
  }

  private uniquePrivateKey(session: Handle, label: string, keyLabel: string): Handle {
    const handles = this.findPrivateKeys(session, label);
    if (handles.length === 0) {
      throw new SigningError(keyLabel, `no private key labelled "${label}" on token "${this.tokenLabel}"`);
    }
    if (handles.length > 1) {
      throw new SigningError(keyLabel, `${handles.length} private keys are labelled "${label}"; labels must be unique`);
    }
    return handles[0];
  }

  private findPublicKey(session: Handle, label: string, id: Buffer): Handle | undefined {
    const byId =
      id.length > 0
        ? this.findObjects(session, [
            { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
            { type: pkcs11js.CKA_ID, value: id },
          ])
        : [];
    if (byId.length === 1) return byId[0];
    const byLabel = this.findObjects(session, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
      { type: pkcs11js.CKA_LABEL, value: label },
    ]);
    return byLabel.length === 1 ? byLabel[0] : undefined;
  }

  private describeKey(session: Handle, privateKey: Handle): Pkcs11KeyInfo {
    const pkcs11 = this.module.pkcs11;
    const [labelAttr, idAttr] = pkcs11.C_GetAttributeValue(session, privateKey, [
      { type: pkcs11js.CKA_LABEL },
      { type: pkcs11js.CKA_ID },
    ]);
    const label = labelAttr.value.toString('utf8');
    const flags = readKeyFlags(pkcs11, session, privateKey);
    const publicKey = this.findPublicKey(session, label, idAttr.value);
    let keyAlgorithm: KeyAlgorithm | undefined;
    let unsupportedReason: string | undefined;
    try {
      keyAlgorithm = readPublicKey(pkcs11, session, privateKey, publicKey, this.keyLabelFor(label)).keyAlgorithm;
    } catch (error) {
      unsupportedReason = error instanceof SigningError ? error.message : reason(error);
    }
    return {
      label,
      id: idAttr.value.toString('hex'),
      keyAlgorithm,
      ...(unsupportedReason === undefined ? {} : { unsupportedReason }),
      ...flags,
      hasPublicKeyObject: publicKey !== undefined,
    };
  }

  private loadKey(
    session: Handle,
    label: string,
    keyLabel: string,
    acceptImportedKey: boolean,
  ): { privateKey: Handle; keyAlgorithm: KeyAlgorithm; spki: Uint8Array } {
    const pkcs11 = this.module.pkcs11;
    const privateKey = this.uniquePrivateKey(session, label, keyLabel);
    const flags = readKeyFlags(pkcs11, session, privateKey);
    if (flags.extractable || !flags.sensitive) {
      throw new SigningError(
        keyLabel,
        'the private key is extractable or not sensitive; a CA key must be generated in the HSM as sensitive and non-extractable',
      );
    }
    if (!acceptImportedKey && (!flags.neverExtractable || !flags.alwaysSensitive)) {
      throw new SigningError(
        keyLabel,
        'the private key was once extractable or not sensitive (imported, not generated in the HSM); refused unless acceptImportedKey is set',
      );
    }
    const [signAttr, idAttr] = pkcs11.C_GetAttributeValue(session, privateKey, [
      { type: pkcs11js.CKA_SIGN },
      { type: pkcs11js.CKA_ID },
    ]);
    if (signAttr.value[0] !== 1) throw new SigningError(keyLabel, 'the private key may not sign (CKA_SIGN is false)');
    const publicKey = this.findPublicKey(session, label, idAttr.value);
    const { keyAlgorithm, spki } = readPublicKey(pkcs11, session, privateKey, publicKey, keyLabel);
    return { privateKey, keyAlgorithm, spki };
  }
}

// ---------------------------------------------------------------------------
// Signer

/** A CA key in a PKCS#11 token. Made by {@link Pkcs11Token.signer} or {@link openPkcs11Signer}. */
export class Pkcs11Signer implements Signer {
  readonly signatureAlgorithm: SignatureAlgorithm;
  private readonly verificationKey: KeyObject;
  private readonly mechanism: number;
  private readonly maxSignatureBytes: number;
  /** Each signature is verified with the public key before sign() returns it (verifyEachSignature, default true). */
  readonly checksItsSignatures: boolean;

  /** @internal Use Pkcs11Token.signer() or openPkcs11Signer(). */
  constructor(
    private readonly token: Pkcs11Token,
    readonly keyLabel: string,
    readonly keyAlgorithm: KeyAlgorithm,
    readonly publicKeySpki: Uint8Array,
    private readonly privateKey: Handle,
    private readonly options: Pkcs11SignerOptions,
  ) {
    this.signatureAlgorithm = signatureAlgorithmFor(keyAlgorithm);
    this.verificationKey = createPublicKey({ key: Buffer.from(publicKeySpki), format: 'der', type: 'spki' });
    this.checksItsSignatures = options.verifyEachSignature ?? true;
    if (keyAlgorithm.kind === 'RSA') {
      this.mechanism =
        (options.rsaMechanism ?? 'CKM_SHA256_RSA_PKCS') === 'CKM_RSA_PKCS'
          ? pkcs11js.CKM_RSA_PKCS
          : pkcs11js.CKM_SHA256_RSA_PKCS;
      this.maxSignatureBytes = keyAlgorithm.modulusBits / 8;
    } else {
      this.mechanism = pkcs11js.CKM_ECDSA;
      this.maxSignatureBytes = 2 * CURVES[keyAlgorithm.curve].coordinateBytes;
    }
  }

  async sign(data: Uint8Array): Promise<Uint8Array> {
    const hashName = this.signatureAlgorithm === 'ecdsaWithSHA384' ? 'sha384' : 'sha256';
    let input: Buffer;
    if (this.mechanism === pkcs11js.CKM_SHA256_RSA_PKCS) input = Buffer.from(data);
    else if (this.mechanism === pkcs11js.CKM_RSA_PKCS)
      input = Buffer.concat([SHA256_DIGEST_INFO_PREFIX, createHash('sha256').update(data).digest()]);
    else input = createHash(hashName).update(data).digest();

    let output: Buffer;
    try {
      output = await this.token.signOnSession(this.privateKey, this.mechanism, input, this.maxSignatureBytes);
    } catch (cause) {
      throw new SigningError(this.keyLabel, `C_Sign failed: ${reason(cause)}`, { cause });
    }
    let signature: Uint8Array;
    if (this.keyAlgorithm.kind === 'EC') {
      if (output.length !== this.maxSignatureBytes) {
        throw new SigningError(
          this.keyLabel,
          `the token returned a ${output.length}-byte ECDSA signature, expected r||s of ${this.maxSignatureBytes} bytes`,
        );
      }
      signature = ecdsaRawToDer(output);
    } else {
      signature = new Uint8Array(output);
    }
    if (this.checksItsSignatures) {
      // The KeyObject itself (DER ECDSA signatures are node's default): an options object costs a third of an RSA-2048 verification.
      const valid = cryptoVerify(hashName, data, this.verificationKey, signature);
      if (!valid) throw new SigningError(this.keyLabel, 'the token returned a signature that does not verify');
    }
    return signature;
  }

  async close(): Promise<void> {
    if (this.options.closeTokenWithSigner) await this.token.close();
  }
}

/**
 * Opens a token and returns a Signer for one key on it; closing the signer
 * closes the token. The usual way for a service to get its CA key.
 */
export async function openPkcs11Signer(
  options: Pkcs11TokenOptions & { keyLabel: string } & Pkcs11SignerOptions,
): Promise<Pkcs11Signer> {
  const token = await Pkcs11Token.open(options);
  try {
    return await token.signer(options.keyLabel, { ...options, closeTokenWithSigner: true });
  } catch (error) {
    await token.close();
    throw error;
  }
}

// ---------------------------------------------------------------------------
// Helpers

export { ecdsaRawToDer };

function findSlot(pkcs11: pkcs11js.PKCS11, tokenLabel: string, errorLabel: string): Handle {
  let slots: Handle[];
  try {
    slots = pkcs11.C_GetSlotList(true);
  } catch (cause) {
    throw new SigningError(errorLabel, `C_GetSlotList failed: ${reason(cause)}`, { cause });
  }
  const labels: string[] = [];
  for (const slot of slots) {
    const info = pkcs11.C_GetTokenInfo(slot);
    if ((info.flags & pkcs11js.CKF_TOKEN_INITIALIZED) === 0) continue;
    const label = info.label.replace(/[\s\0]+$/, '');
    if (label === tokenLabel) return slot;
    labels.push(label);
  }
  throw new SigningError(
    errorLabel,
    `no token labelled "${tokenLabel}" (tokens present: ${labels.length ? labels.map((l) => `"${l}"`).join(', ') : 'none'})`,
  );
}

function readKeyFlags(
  pkcs11: pkcs11js.PKCS11,
  session: Handle,
  key: Handle,
): { sensitive: boolean; extractable: boolean; alwaysSensitive: boolean; neverExtractable: boolean } {
  const [sensitive, extractable, alwaysSensitive, neverExtractable] = pkcs11
    .C_GetAttributeValue(session, key, [
      { type: pkcs11js.CKA_SENSITIVE },
      { type: pkcs11js.CKA_EXTRACTABLE },
      { type: pkcs11js.CKA_ALWAYS_SENSITIVE },
      { type: pkcs11js.CKA_NEVER_EXTRACTABLE },
    ])
    .map((attribute) => attribute.value[0] === 1);
  return { sensitive, extractable, alwaysSensitive, neverExtractable };
}

/**
 * The SubjectPublicKeyInfo from the token's attributes: CKA_MODULUS and
 * CKA_PUBLIC_EXPONENT for RSA (RFC 3279 §2.3.1), CKA_EC_PARAMS and
 * CKA_EC_POINT for EC (RFC 5480 §2). RSA falls back to the private key's
 * public attributes when the token holds no public key object.
 */
function readPublicKey(
  pkcs11: pkcs11js.PKCS11,
  session: Handle,
  privateKey: Handle,
  publicKey: Handle | undefined,
  keyLabel: string,
): { keyAlgorithm: KeyAlgorithm; spki: Uint8Array } {
  const [keyTypeAttr] = pkcs11.C_GetAttributeValue(session, privateKey, [{ type: pkcs11js.CKA_KEY_TYPE }]);
  const keyType = keyTypeAttr.value.readUIntLE(0, Math.min(keyTypeAttr.value.length, 6));
  let result: { keyAlgorithm: KeyAlgorithm; spki: Uint8Array };
  if (keyType === pkcs11js.CKK_RSA) {
    const [modulusAttr, exponentAttr] = pkcs11.C_GetAttributeValue(session, publicKey ?? privateKey, [
      { type: pkcs11js.CKA_MODULUS },
      { type: pkcs11js.CKA_PUBLIC_EXPONENT },
    ]);
    const modulus = stripLeadingZeros(modulusAttr.value);
    const bits = modulus.length * 8 - Math.clz32(modulus[0]) + 24;
    if (bits !== 2048 && bits !== 3072 && bits !== 4096) {
      throw new SigningError(keyLabel, `RSA key of ${bits} bits is not allowed (2048, 3072 or 4096)`);
    }
    const rsaPublicKey = derSequence(derUnsignedInteger(modulus), derUnsignedInteger(exponentAttr.value));
    result = {
      keyAlgorithm: { kind: 'RSA', modulusBits: bits },
      spki: derSequence(derSequence(derObjectIdentifier(OID.rsaEncryption), DER_NULL), derBitString(rsaPublicKey)),
    };
  } else if (keyType === pkcs11js.CKK_EC) {
    if (!publicKey) throw new SigningError(keyLabel, 'the token holds no public key object for this EC key');
    const [paramsAttr, pointAttr] = pkcs11.C_GetAttributeValue(session, publicKey, [
      { type: pkcs11js.CKA_EC_PARAMS },
      { type: pkcs11js.CKA_EC_POINT },
    ]);
    const curve = (Object.keys(CURVES) as (keyof typeof CURVES)[]).find((name) =>
      Buffer.from(derObjectIdentifier(CURVES[name].oid)).equals(paramsAttr.value),
    );
    if (!curve) throw new SigningError(keyLabel, 'EC curve is not allowed (P-256 or P-384, as a named curve)');
    const point = unwrapEcPoint(pointAttr.value, CURVES[curve].coordinateBytes, keyLabel);
    result = {
      keyAlgorithm: { kind: 'EC', curve },
      spki: derSequence(
        derSequence(derObjectIdentifier(OID.ecPublicKey), derObjectIdentifier(CURVES[curve].oid)),
        derBitString(point),
      ),
    };
  } else {
    throw new SigningError(keyLabel, `key type 0x${keyType.toString(16)} is not allowed (RSA or EC)`);
  }
  try {
    createPublicKey({ key: Buffer.from(result.spki), format: 'der', type: 'spki' });
  } catch (cause) {
    throw new SigningError(keyLabel, 'the public key read from the token is not valid', { cause });
  }
  return result;
}

/**
 * CKA_EC_POINT is the DER OCTET STRING of the uncompressed point (PKCS#11
 * v2.40 §2.3.3); some tokens return the bare point. Decide by length, since
 * both start with 0x04.
 */
function unwrapEcPoint(value: Buffer, coordinateBytes: number, keyLabel: string): Uint8Array {
  const pointLength = 1 + 2 * coordinateBytes;
  if (value.length === pointLength && value[0] === 0x04) return new Uint8Array(value);
  try {
    const header = readDerHeader(value);
    if (header.tag === 0x04 && header.end === value.length && header.end - header.contentStart === pointLength) {
      const point = value.subarray(header.contentStart, header.end);
      if (point[0] === 0x04) return new Uint8Array(point);
    }
  } catch {
    // fall through to the error below
  }
  throw new SigningError(keyLabel, 'CKA_EC_POINT is not an uncompressed point of the key curve');
}

function stripLeadingZeros(bytes: Buffer): Uint8Array {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  return new Uint8Array(bytes.subarray(start));
}

function assertKeyAlgorithm(keyLabel: string, key: KeyAlgorithm): void {
  if (key.kind === 'RSA' && [2048, 3072, 4096].includes(key.modulusBits)) return;
  if (key.kind === 'EC' && key.curve in CURVES) return;
  throw new SigningError(keyLabel, `unsupported key algorithm ${JSON.stringify(key)}`);
}

function pkcs11ErrorCode(error: unknown): number | undefined {
  const code = error instanceof Error ? (error as Error & { code?: unknown }).code : undefined;
  return typeof code === 'number' ? code : undefined;
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function closeQuietly(action: () => void): void {
  try {
    action();
  } catch {
    // Releasing a handle that is already gone is not an error worth reporting.
  }
}
