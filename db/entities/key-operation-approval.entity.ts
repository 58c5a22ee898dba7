import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A key operation waiting for M-of-N operator approval (key ceremony). */
@Entity('key_operation_approval')
export class KeyOperationApprovalEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('text') operation!: string;
  @Column('jsonb') parameters!: Record<string, unknown>;
  @Column('text', { name: 'requested_by' }) requestedBy!: string;
  @Column('integer') required!: number;
  @Column('jsonb') approvals!: Array<{ operator: string; at: string }>;
  @Column('text') state!: 'pending' | 'approved' | 'rejected' | 'executed';
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column('timestamptz', { name: 'decided_at', nullable: true }) decidedAt!: Date | null;
  @Column('timestamptz', { name: 'executed_at', nullable: true }) executedAt!: Date | null;
  @Column('text', { name: 'executed_by', nullable: true }) executedBy!: string | null;
  @Column('jsonb', { nullable: true }) result!: Record<string, unknown> | null;
}
