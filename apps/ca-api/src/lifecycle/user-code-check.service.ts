import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { appendAudit } from '@moica/db';
import { Clock, NationalIdVault, ProblemException, UserCodeHasher } from '@moica/platform';

/** Wrong user codes per card before a lock-out, and its length (issue 5). */
export const USER_CODE_MAX_FAILURES = 5;
export const USER_CODE_LOCK_MINUTES = 15;

/**
 * The holder's online proof by national ID + card number + user code
 * (DOMAIN.md: suspension and resumption online). The code is compared with
 * its scrypt hash in constant time; five wrong codes lock the card for
 * fifteen minutes. The check commits on its own, so a failure is counted
 * even though the request is refused. The answers never say whether the
 * national ID exists.
 */
@Injectable()
export class UserCodeCheckService {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly vault: NationalIdVault,
    private readonly hasher: UserCodeHasher,
  ) {}

  /** Resolves with the holder id when the code is right for this holder and card; throws a problem otherwise. */
  async verify(nationalId: string, cardNumber: string, userCode: string, clientIp: string): Promise<string> {
    const hmac = this.vault.lookupHash(nationalId);
    const outcome = await this.dataSource.transaction(async (manager): Promise<{ holderId: string } | { refusal: ProblemException }> => {
      const now = this.clock.now();
      // The card's row carries the count (issue 5: per card); the holder is looked up by the keyed hash.
      const rows: Array<{ id: string; user_code_hash: string; card_id: string | null; user_code_failures: number; user_code_locked_until: Date | null; owns_card: boolean }> =
        await manager.query(
          `SELECT h.id, h.user_code_hash, k.id AS card_id, coalesce(k.user_code_failures, 0) AS user_code_failures, k.user_code_locked_until,
                  k.holder_id IS NOT DISTINCT FROM h.id AND k.id IS NOT NULL AS owns_card
             FROM holder h LEFT JOIN card k ON k.card_number = $2
            WHERE h.national_id_hmac = $1 FOR UPDATE OF h`,
          [hmac, cardNumber],
        );
      if (rows[0]?.card_id) await manager.query(`SELECT 1 FROM card WHERE id = $1 FOR UPDATE`, [rows[0].card_id]);
      const holder = rows[0];
      if (!holder) {
        // Same work and the same answer as a wrong code: the API does not reveal who holds a card.
        await this.hasher.verify(userCode, await this.hasher.placeholderHash()).catch(() => false);
        return { refusal: incorrect(USER_CODE_MAX_FAILURES) };
      }
      if (holder.user_code_locked_until && holder.user_code_locked_until > now) {
        const seconds = Math.ceil((holder.user_code_locked_until.getTime() - now.getTime()) / 1000);
        return {
          refusal: new ProblemException('user-code-locked', HttpStatus.LOCKED, 'User code locked', `too many wrong user codes; try again in ${seconds} s`, {
            retryAfterSeconds: seconds,
          }),
        };
      }
      const right = await this.hasher.verify(userCode, holder.user_code_hash);
      if (right && holder.owns_card) {
        if (holder.user_code_failures > 0) {
          await manager.query(`UPDATE card SET user_code_failures = 0, user_code_locked_until = NULL WHERE id = $1`, [holder.card_id]);
        }
        return { holderId: holder.id };
      }
      if (right && !holder.owns_card) {
        return { refusal: new ProblemException('card-not-holders', HttpStatus.FORBIDDEN, "Not the holder's card", 'this card does not belong to this holder') };
      }
      // A wrong code for a card of another holder counts on that card too: it is the card being guessed at.
      if (!holder.card_id) return { refusal: incorrect(USER_CODE_MAX_FAILURES) };
      const failures = holder.user_code_failures + 1;
      const locks = failures >= USER_CODE_MAX_FAILURES;
      await manager.query(`UPDATE card SET user_code_failures = $2, user_code_locked_until = $3 WHERE id = $1`, [
        holder.card_id,
        locks ? 0 : failures,
        locks ? new Date(now.getTime() + USER_CODE_LOCK_MINUTES * 60_000) : null,
      ]);
      await appendAudit(manager, {
        at: now,
        actorKind: 'holder',
        actorId: null,
        operation: locks ? 'user-code.locked' : 'user-code.failed',
        subjectKind: 'holder',
        subjectId: holder.id,
        after: { failures: locks ? USER_CODE_MAX_FAILURES : failures, locked: locks },
        detail: { cardNumber, clientIp },
      });
      // The count commits with this transaction; the refusal is thrown after it.
      return { refusal: locks ? lockedNow() : incorrect(USER_CODE_MAX_FAILURES - failures) };
    });
    if ('refusal' in outcome) throw outcome.refusal;
    return outcome.holderId;
  }
}

function incorrect(remaining: number): ProblemException {
  return new ProblemException('user-code-incorrect', HttpStatus.FORBIDDEN, 'User code incorrect', 'the national ID, card number or user code is wrong', {
    attemptsRemaining: Math.max(remaining, 0),
  });
}

function lockedNow(): ProblemException {
  return new ProblemException('user-code-locked', HttpStatus.LOCKED, 'User code locked', `five wrong user codes: locked for ${USER_CODE_LOCK_MINUTES} minutes`, {
    retryAfterSeconds: USER_CODE_LOCK_MINUTES * 60,
  });
}
