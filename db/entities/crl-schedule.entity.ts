import { Column, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** An operator's publication schedule for one kind of CRL of one CA: cron or interval. */
@Entity('crl_schedule')
export class CrlScheduleEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid', { name: 'ca_id' }) caId!: string;
  @Column('text') kind!: 'complete' | 'partition' | 'delta';
  @Column('text', { nullable: true }) cron!: string | null;
  @Column('integer', { name: 'interval_seconds', nullable: true }) intervalSeconds!: number | null;
  @Column('integer', { name: 'next_update_seconds' }) nextUpdateSeconds!: number;
  @Column('boolean') enabled!: boolean;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
