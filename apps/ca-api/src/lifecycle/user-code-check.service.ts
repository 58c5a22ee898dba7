import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
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
 * national ID exists: lock-out and count are the card's whoever is named,
 * and an unknown holder costs the same scrypt work.
 */
@Injectable()
export class UserCodeCheckService {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly vault: NationalIdVault,
    private readonly hasher: UserCodeHasher,
  ) {}

  /**
   * Resolves with the holder id when the code is right for this holder and
   * card; throws a problem otherwise. `auditRefusal`, when given, writes the
   * caller's own record of a refusal in the check's transaction, so the
   * refused attempt and the failure count it changed commit together.
   */
  async verify(
    nationalId: string,
    cardNumber: string,
    userCode: string,
    clientIp: string,
    auditRefusal?: (manager: EntityManager, refusal: ProblemException) => Promise<unknown>,
  ): Promise<string> {
    const hmac = this.vault.lookupHash(nationalId);
    const outcome = await this.dataSource.transaction(async (manager) => {
      const decided = await this.decide(manager, hmac, cardNumber, userCode, clientIp);
      if ('refusal' in decided && auditRefusal) await auditRefusal(manager, decided.refusal);
      return decided;
    });
    if ('refusal' in outcome) throw outcome.refusal;
    return outcome.holderId;
  }

  private async decide(manager: EntityManager, hmac: Buffer, cardNumber: string, userCode: string, clientIp: string): Promise<{ holderId: string } | { refusal: ProblemException }> {
    const now = this.clock.now();
    // The holder is looked up by the keyed hash; the card's row carries the count (issue 5: per card).
    const holders: Array<{ id: string; user_code_hash: string }> = await manager.query(
      `SELECT id, user_code_hash FROM holder WHERE national_id_hmac = $1 FOR NO KEY UPDATE`,
      [hmac],
    );
    const cards: Array<{ id: string; holder_id: string | null; user_code_failures: number; user_code_locked_until: Date | null }> = await manager.query(
      `SELECT id, holder_id, user_code_failures, user_code_locked_until FROM card WHERE card_number = $1 FOR NO KEY UPDATE`,
      [cardNumber],
    );
    const holder = holders[0];
    const card = cards[0];
    // The answers depend on the card only, never on whether the national ID is a holder's: the lock-out and the
    // count are the card's, whoever is named (it is the card being guessed at), and an unknown holder costs the
    // same scrypt work as a known one.
    if (card?.user_code_locked_until && card.user_code_locked_until > now) {
      const seconds = Math.ceil((card.user_code_locked_until.getTime() - now.getTime()) / 1000);
      return {
        refusal: new ProblemException('user-code-locked', HttpStatus.LOCKED, 'User code locked', `too many wrong user codes; try again in ${seconds} s`, {
          retryAfterSeconds: seconds,
        }),
      };
    }
    const right = holder
      ? await this.hasher.verify(userCode, holder.user_code_hash)
      : await this.hasher.verify(userCode, await this.hasher.placeholderHash()).then(() => false, () => false);
    const ownsCard = holder !== undefined && card !== undefined && card.holder_id === holder.id;
    if (right && ownsCard) {
      if (card.user_code_failures > 0) {
        await manager.query(`UPDATE card SET user_code_failures = 0, user_code_locked_until = NULL WHERE id = $1`, [card.id]);
      }
      return { holderId: holder.id };
    }
    if (right) {
      return { refusal: new ProblemException('card-not-holders', HttpStatus.FORBIDDEN, "Not the holder's card", 'this card does not belong to this holder') };
    }
    if (!card) return { refusal: incorrect(USER_CODE_MAX_FAILURES) };
    const failures = card.user_code_failures + 1;
    const locks = failures >= USER_CODE_MAX_FAILURES;
    await manager.query(`UPDATE card SET user_code_failures = $2, user_code_locked_until = $3 WHERE id = $1`, [
      card.id,
      locks ? 0 : failures,
      locks ? new Date(now.getTime() + USER_CODE_LOCK_MINUTES * 60_000) : null,
    ]);
    await appendAudit(manager, {
      at: now,
      actorKind: 'holder',
      actorId: null,
      operation: locks ? 'user-code.locked' : 'user-code.failed',
      // The named holder when there is one; a national ID of no holder leaves the card as the subject.
      subjectKind: holder ? 'holder' : 'card',
      subjectId: holder ? holder.id : cardNumber,
      after: { failures: locks ? USER_CODE_MAX_FAILURES : failures, locked: locks },
      detail: { cardNumber, clientIp },
    });
    // The count commits with this transaction; the refusal is thrown after it.
    return { refusal: locks ? lockedNow() : incorrect(USER_CODE_MAX_FAILURES - failures) };
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
