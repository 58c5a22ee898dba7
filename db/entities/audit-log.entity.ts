import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One audit record. Append-only and hash-chained by the database (triggers):
 * `id` (drawn under the chain head's lock, so id order is chain order),
 * `prevHash` and `hash` are set on insert and any UPDATE or DELETE is refused.
 */
@Entity('audit_log')
export class AuditLogEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' }) id!: string;
  @Column('timestamptz') at!: Date;
  @Column('text', { name: 'actor_kind' }) actorKind!: string;
  @Column('text', { name: 'actor_id', nullable: true }) actorId!: string | null;
  @Column('uuid', { name: 'office_id', nullable: true }) officeId!: string | null;
  @Column('text') operation!: string;
  @Column('text', { name: 'subject_kind', nullable: true }) subjectKind!: string | null;
  @Column('text', { name: 'subject_id', nullable: true }) subjectId!: string | null;
  @Column('jsonb', { nullable: true }) delegate!: Record<string, unknown> | null;
  @Column('jsonb', { nullable: true }) before!: Record<string, unknown> | null;
  @Column('jsonb', { nullable: true }) after!: Record<string, unknown> | null;
  @Column('jsonb') detail!: Record<string, unknown>;
  @Column('bytea', { name: 'prev_hash' }) prevHash!: Buffer;
  @Column('bytea') hash!: Buffer;
}
