import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';

/** A card with repeated refused unlock attempts, for operators. */
export interface CardUnlockFailures {
  cardNumber: string;
  failures: number;
  firstAt: Date;
  lastAt: Date;
  reasons: string[];
  /** The user-code lock-out of the card, if it is on now. */
  userCodeLockedUntil: Date | null;
}

/** SQL of card unlock: the card's key version, answered challenges, bureau personalisation, failures from the audit log. */
@Injectable()
export class CardUnlockRepository {
  /** The master key version the card was personalised with. Call after locking the card's certificates. */
  async keyVersion(manager: EntityManager, cardId: string): Promise<number> {
    const rows: Array<{ unblock_key_version: number }> = await manager.query(`SELECT unblock_key_version FROM card WHERE id = $1`, [cardId]);
    return rows[0].unblock_key_version;
  }

  /** Records an answered challenge; false when this card's challenge was answered before (a replay). */
  async recordChallenge(manager: EntityManager, cardId: string, challenge: Buffer, at: Date): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `INSERT INTO card_unlock_challenge (card_id, challenge, answered_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1`,
      [cardId, challenge, at],
    );
    return rows.length === 1;
  }

  /** The version of the active master key (what new cards get), or undefined. */
  async activeVersion(manager: EntityManager): Promise<number | undefined> {
    const rows: Array<{ version: number }> = await manager.query(`SELECT version FROM card_unlock_master_key WHERE active FOR SHARE`);
    return rows[0]?.version;
  }

  /**
   * Locks the card numbers until the transaction ends (an advisory lock per
   * number, taken in one order by `lock_card_numbers`). A card row for one of
   * them is inserted only under the same lock (trigger
   * `card_personalised_key_version`), so after this call no card row of these
   * numbers appears or commits before this transaction ends, and one committed
   * before is visible to the next statement.
   */
  async lockCardNumbers(manager: EntityManager, cardNumbers: string[]): Promise<void> {
    await manager.query(`SELECT lock_card_numbers($1::text[])`, [cardNumbers]);
  }

  /** Those of `cardNumbers` that were already issued (a card row exists). Call after `lockCardNumbers`. */
  async issuedCardNumbers(manager: EntityManager, cardNumbers: string[]): Promise<string[]> {
    const rows: Array<{ card_number: string }> = await manager.query(`SELECT card_number FROM card WHERE card_number = ANY($1::text[]) ORDER BY card_number`, [cardNumbers]);
    return rows.map((row) => row.card_number);
  }

  /**
   * The version each card number was (or is now) personalised with: an
   * exported card number keeps its recorded one, and a new card number gets
   * `activeVersion`, recorded here. (The service locks the card numbers and
   * refuses issued cards before.)
   */
  async personalise(manager: EntityManager, cardNumbers: string[], activeVersion: number, at: Date, by: string): Promise<Map<string, { version: number; fresh: boolean }>> {
    const first = await this.personaliseOnce(manager, cardNumbers, activeVersion, at, by);
    // A concurrent export that recorded a card number first leaves it without a version in this statement's
    // snapshot (ON CONFLICT DO NOTHING waited for it to commit): the next statement sees its row.
    const raced = [...first].filter(([, entry]) => entry.version === null).map(([cardNumber]) => cardNumber);
    if (raced.length === 0) return first;
    const again = await this.personaliseOnce(manager, raced, activeVersion, at, by);
    for (const [cardNumber, entry] of again) first.set(cardNumber, { version: entry.version, fresh: false });
    return first;
  }

  private async personaliseOnce(manager: EntityManager, cardNumbers: string[], activeVersion: number, at: Date, by: string): Promise<Map<string, { version: number; fresh: boolean }>> {
    const rows: Array<{ card_number: string; version: number; fresh: boolean }> = await manager.query(
      `WITH wanted AS (SELECT DISTINCT unnest($1::text[]) AS card_number),
            known AS (
              SELECT w.card_number, coalesce(k.unblock_key_version, p.unblock_key_version) AS version
                FROM wanted w LEFT JOIN card k ON k.card_number = w.card_number
                LEFT JOIN card_personalisation p ON p.card_number = w.card_number),
            inserted AS (
              INSERT INTO card_personalisation (card_number, unblock_key_version, exported_at, exported_by)
              SELECT card_number, $2, $3, $4 FROM known WHERE version IS NULL
              ON CONFLICT (card_number) DO NOTHING RETURNING card_number, unblock_key_version)
       SELECT k.card_number, coalesce(k.version, i.unblock_key_version) AS version, k.version IS NULL AS fresh
         FROM known k LEFT JOIN inserted i ON i.card_number = k.card_number`,
      [cardNumbers, activeVersion, at, by],
    );
    return new Map(rows.map((row) => [row.card_number, { version: row.version, fresh: row.fresh }]));
  }

  /** Cards with at least `minimum` refused unlock attempts since `since` (from the audit log), most failures first. */
  async failures(manager: EntityManager, since: Date, now: Date, minimum: number, limit: number): Promise<CardUnlockFailures[]> {
    const rows: Array<{ card_number: string; failures: number; first_at: Date; last_at: Date; reasons: string[]; user_code_locked_until: Date | null }> =
      await manager.query(
        `SELECT a.subject_id AS card_number, count(*)::int AS failures, min(a.at) AS first_at, max(a.at) AS last_at,
                array_agg(DISTINCT a.after->>'reason') AS reasons,
                (SELECT k.user_code_locked_until FROM card k WHERE k.card_number = a.subject_id AND k.user_code_locked_until > $4) AS user_code_locked_until
           FROM audit_log a
          WHERE a.operation = 'card-unlock.refused' AND a.subject_kind = 'card' AND a.at >= $1
          GROUP BY a.subject_id HAVING count(*) >= $2
          ORDER BY count(*) DESC, max(a.at) DESC LIMIT $3`,
        [since, minimum, limit, now],
      );
    return rows.map((row) => ({
      cardNumber: row.card_number,
      failures: row.failures,
      firstAt: row.first_at,
      lastAt: row.last_at,
      reasons: row.reasons,
      userCodeLockedUntil: row.user_code_locked_until,
    }));
  }
}
