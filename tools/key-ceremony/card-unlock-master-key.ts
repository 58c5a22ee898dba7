/**
 * The key-ceremony operation `create-card-unlock-master-key` (issue 12,
 * docs/card-unlock.md): a new version of the master key that card unblock
 * keys are derived from. The first version creates it; each later version
 * rotates it (the new one becomes the version new cards are personalised
 * with; older versions stay for the cards that carry them). M-of-N like
 * every operation that creates a key.
 *
 * - pkcs11: an AES-256 secret key generated in the token (CKM_AES_KEY_GEN;
 *   sensitive, never extractable, CMAC only), with a CKA_ID derived from the
 *   request id so a retry of the same request takes the key it generated.
 * - software: 32 random bytes in an encrypted AES key file (development).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  encryptAesKeyFile,
  findAesSecretKey,
  generateCardMasterKey,
  keyLocationLabel,
  parseKeyLocation,
  Pkcs11CardKeyDerivation,
  Pkcs11Token,
} from '@moica/pki';
import { Queryable, queryRows } from '../../db/audit-chain';
import type { ExecutionOutcome, UndoLog } from './approvals';
import { CeremonyRefused } from './ceremony-errors';
import { ceremonyKeyId, CeremonySecrets, resolvePin } from './ceremony-keys';

export interface CreateCardUnlockMasterKeyParameters {
  /** The new version: exactly one more than the highest existing version. */
  version: number;
  keyLocation: string;
}

/** Checks a request's version and key location against the database (before it is recorded, and again at execution). */
export async function precheckCardUnlockMasterKey(db: Queryable, p: CreateCardUnlockMasterKeyParameters): Promise<void> {
  const [{ highest }] = await queryRows<{ highest: number }>(db, `SELECT coalesce(max(version), 0)::int AS highest FROM card_unlock_master_key`);
  if (p.version !== highest + 1) {
    throw new CeremonyRefused('conflict', `the next card unlock master key version is ${highest + 1}, not ${p.version}`);
  }
}

/** Runs the operation inside the executing transaction. */
export async function createCardUnlockMasterKey(
  ctx: { tx: Queryable; requestId: string; now: Date; undo: UndoLog; secrets: CeremonySecrets },
  p: CreateCardUnlockMasterKeyParameters,
): Promise<ExecutionOutcome> {
  // Executions of two approved requests for one version serialise here, and the second is refused before it
  // makes a key (a key generated in an HSM is not undone when the transaction rolls back).
  await queryRows(ctx.tx, `LOCK TABLE card_unlock_master_key IN SHARE ROW EXCLUSIVE MODE`);
  await precheckCardUnlockMasterKey(ctx.tx, p);
  const location = parseKeyLocation(p.keyLocation);
  let keyReused = false;
  if (location.kind === 'software') {
    if (!ctx.secrets.softwareKeyPassphrase) throw new CeremonyRefused('missing-secret', `no passphrase for ${keyLocationLabel(location)}: set SOFTWARE_KEY_PASSPHRASE`);
    const key = randomBytes(32);
    const file = encryptAesKeyFile(key, ctx.secrets.softwareKeyPassphrase);
    key.fill(0);
    mkdirSync(dirname(location.path), { recursive: true, mode: 0o700 });
    try {
      writeFileSync(location.path, file, { mode: 0o600, flag: 'wx' });
    } catch (cause) {
      throw new CeremonyRefused('conflict', `cannot write ${location.path} (a new key never overwrites a file)`, { cause });
    }
    ctx.undo.push(() => unlinkSync(location.path));
  } else {
    const token = await Pkcs11Token.open({ modulePath: location.modulePath, tokenLabel: location.tokenLabel, pin: await resolvePin(location, ctx.secrets) });
    try {
      const id = ceremonyKeyId(ctx.requestId, location.objectLabel);
      const existing = await findAesSecretKey(token, location.objectLabel);
      if (existing && existing.id !== Buffer.from(id).toString('hex')) {
        throw new CeremonyRefused('conflict', `token ${location.tokenLabel} already holds a key labelled "${location.objectLabel}"`);
      }
      if (existing) keyReused = true;
      else await generateCardMasterKey(token, location.objectLabel, id);
      // Opening checks what the app will check: AES-256, sensitive, never extractable, CMAC.
      await (await Pkcs11CardKeyDerivation.open(token, location.objectLabel)).close();
    } finally {
      await token.close();
    }
  }
  const previous = await queryRows<{ version: number }>(ctx.tx, `UPDATE card_unlock_master_key SET active = false WHERE active RETURNING version`);
  await queryRows(
    ctx.tx,
    `INSERT INTO card_unlock_master_key (version, key_location, development, active, created_at, key_operation_id) VALUES ($1, $2, $3, true, $4, $5)`,
    [p.version, p.keyLocation, location.kind === 'software', ctx.now, ctx.requestId],
  );
  return {
    subjectKind: 'card-unlock-master-key',
    subjectId: String(p.version),
    result: {
      version: p.version,
      keyLocation: p.keyLocation,
      keyLabel: keyLocationLabel(location),
      development: location.kind === 'software',
      keyReused,
      deactivatedVersion: previous[0]?.version ?? null,
    },
  };
}
