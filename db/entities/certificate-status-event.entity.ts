import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** One change of a certificate's status: its history, for look-ups and the console. */
@Entity('certificate_status_event')
export class CertificateStatusEventEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' }) id!: string;
  @Column('uuid', { name: 'certificate_id' }) certificateId!: string;
  @Column('text', { name: 'from_status', nullable: true }) fromStatus!: string | null;
  @Column('text', { name: 'to_status' }) toStatus!: string;
  @Column('smallint', { nullable: true }) reason!: number | null;
  @Column('timestamptz') at!: Date;
  @Column('text', { name: 'actor_kind' }) actorKind!: string;
  @Column('text', { name: 'actor_id', nullable: true }) actorId!: string | null;
  @Column('jsonb') detail!: Record<string, unknown>;
}
