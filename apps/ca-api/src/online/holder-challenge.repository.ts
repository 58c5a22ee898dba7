import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { IdempotencyTicket } from '../idempotency/idempotency-claim';

export type ChallengePurpose = 'renewal' | 'add-email-to-certificate' | 'user-code-reset' | 'activation' | 'online-reissuance';

/** A challenge still open: not used, not expired, reserved for no other Idempotency-Key. */
export interface OpenChallenge {
  challenge: Buffer;
  cardNumber: string;
}

/**
 * The one-time challenges a card signs (holder_challenge). A challenge is
 * used up by a conditional UPDATE (`used_at IS NULL`) in the transaction of
 * the change it authorises: a request rolled back (its Idempotency-Key claim
 * taken over, a refusal) leaves it unused; of two concurrent requests the
 * second waits for the first's row lock and then finds it used, or free if
 * the first rolled back.
 */
@Injectable()
export class HolderChallengeRepository {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async insert(entry: { challenge: Buffer; cardNumber: string; purpose: ChallengePurpose; expiresAt: Date; now: Date }): Promise<string> {
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `INSERT INTO holder_challenge (challenge, card_number, purpose, expires_at, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
      [entry.challenge, entry.cardNumber, entry.purpose, entry.expiresAt, entry.now],
    );
    return rows[0].id;
  }

  /** Reads an open challenge, changing nothing (the signature is checked before the caller's transaction). */
  async findOpen(id: string, purpose: ChallengePurpose, ticket: IdempotencyTicket, now: Date): Promise<OpenChallenge | undefined> {
    const rows: Array<{ challenge: Buffer; card_number: string }> = await this.dataSource.query(
      `SELECT challenge, card_number FROM holder_challenge
        WHERE id = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 AND (reserved_for IS NULL OR reserved_for = $4)`,
      [id, purpose, now, reservation(ticket)],
    );
    return rows[0] ? { challenge: rows[0].challenge, cardNumber: rows[0].card_number } : undefined;
  }

  /**
   * Reserves an open challenge for this Idempotency-Key, committed at once,
   * for an operation that signs before its final transaction (online
   * renewal): a request with another key can no longer use it, so one
   * challenge never authorises two signings; the retry that takes this key's
   * claim over still can. False when it is used, expired or another key's.
   */
  async reserve(id: string, ticket: IdempotencyTicket, now: Date): Promise<boolean> {
    const [, reserved]: [unknown, number] = await this.dataSource.query(
      `UPDATE holder_challenge SET reserved_for = $2
        WHERE id = $1 AND used_at IS NULL AND expires_at > $3 AND (reserved_for IS NULL OR reserved_for = $2)`,
      [id, reservation(ticket), now],
    );
    return reserved === 1;
  }

  /**
   * Uses the challenge up in the caller's transaction. False when another
   * request used it (committed), or it is reserved for another key. Expiry
   * was checked when the signature was: a challenge answered in time stays
   * good while the change waits for its locks or its signing.
   */
  async consume(manager: EntityManager, id: string, ticket: IdempotencyTicket, now: Date): Promise<boolean> {
    const [, used]: [unknown, number] = await manager.query(
      `UPDATE holder_challenge SET used_at = $3
        WHERE id = $1 AND used_at IS NULL AND (reserved_for IS NULL OR reserved_for = $2)`,
      [id, reservation(ticket), now],
    );
    return used === 1;
  }
}

/** The Idempotency-Key a challenge is reserved for: the caller's scope and the key, unambiguous as JSON. */
function reservation(ticket: IdempotencyTicket): string {
  return JSON.stringify([ticket.principal, ticket.key]);
}
