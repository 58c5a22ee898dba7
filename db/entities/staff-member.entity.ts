import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type StaffRole = 'clerk' | 'supervisor' | 'operator' | 'auditor';

/** A clerk, supervisor, operator or auditor. Clerks and supervisors belong to one office. */
@Entity('staff_member')
export class StaffMemberEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid', { name: 'office_id', nullable: true }) officeId!: string | null;
  @Column('text') name!: string;
  @Column('text') role!: StaffRole;
  @Column('boolean') active!: boolean;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
