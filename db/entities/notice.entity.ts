import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A notice to a holder; at most one per certificate, kind and channel (unique index). */
@Entity('notice')
export class NoticeEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' }) id!: string;
  @Column('uuid', { name: 'certificate_id', nullable: true }) certificateId!: string | null;
  @Column('uuid', { name: 'holder_id' }) holderId!: string;
  @Column('text') kind!: string;
  @Column('text') channel!: 'email' | 'sms';
  @Column('timestamptz', { name: 'due_at' }) dueAt!: Date;
  @Column('text') state!: 'pending' | 'sent' | 'failed' | 'skipped';
  @Column('integer') attempts!: number;
  @Column('text', { name: 'last_error', nullable: true }) lastError!: string | null;
  @Column('timestamptz', { name: 'sent_at', nullable: true }) sentAt!: Date | null;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
}
