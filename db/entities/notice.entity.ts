import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A notice to a holder (issue 8, docs/notices.md): lifecycle notices unique per
 * card, kind, channel and due instant; transactional ones per event key, kind,
 * channel and addressee. Claimed with a lease while being sent.
 */
@Entity('notice')
export class NoticeEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' }) id!: string;
  @Column('uuid', { name: 'certificate_id', nullable: true }) certificateId!: string | null;
  @Column('uuid', { name: 'holder_id' }) holderId!: string;
  @Column('uuid', { name: 'card_id', nullable: true }) cardId!: string | null;
  @Column('text', { name: 'event_key', nullable: true }) eventKey!: string | null;
  /** 'holder', or the previous address of a contact change. */
  @Column('text') addressee!: string;
  @Column('text', { nullable: true }) recipient!: string | null;
  @Column('bytea', { name: 'recipient_sha256', nullable: true }) recipientSha256!: Buffer | null;
  @Column('text', { name: 'provider_message_id', nullable: true }) providerMessageId!: string | null;
  @Column('timestamptz', { name: 'last_attempt_at', nullable: true }) lastAttemptAt!: Date | null;
  @Column('timestamptz', { name: 'claimed_until', nullable: true }) claimedUntil!: Date | null;
  @Column('text') kind!: string;
  @Column('text') channel!: 'email' | 'sms';
  @Column('timestamptz', { name: 'due_at' }) dueAt!: Date;
  @Column('text') state!: 'pending' | 'sending' | 'sent' | 'failed' | 'skipped';
  @Column('integer') attempts!: number;
  @Column('text', { name: 'last_error', nullable: true }) lastError!: string | null;
  @Column('timestamptz', { name: 'sent_at', nullable: true }) sentAt!: Date | null;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
}
