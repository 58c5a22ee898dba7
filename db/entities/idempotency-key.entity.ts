import { Column, Entity, PrimaryColumn } from 'typeorm';

/** An Idempotency-Key of one caller: the first answer is replayed for a retry with the same body. */
@Entity('idempotency_key')
export class IdempotencyKeyEntity {
  @PrimaryColumn('text') principal!: string;
  @PrimaryColumn('text') key!: string;
  @Column('bytea', { name: 'request_sha256' }) requestSha256!: Buffer;
  @Column('integer', { name: 'response_status', nullable: true }) responseStatus!: number | null;
  @Column('jsonb', { name: 'response_body', nullable: true }) responseBody!: unknown;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'completed_at', nullable: true }) completedAt!: Date | null;
  /** Drawn at each claim and take-over; only the request holding the claim completes or releases it. */
  @Column('uuid', { name: 'claim_token', nullable: true }) claimToken!: string | null;
}
