import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** One export of paid re-issuance orders to the card bureau (docs/reissuance.md). */
@Entity('reissuance_production_batch')
export class ReissuanceProductionBatchEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('timestamptz', { name: 'exported_at' }) exportedAt!: Date;
  @Column('uuid', { name: 'exported_by' }) exportedBy!: string;
  @Column('integer', { name: 'order_count' }) orderCount!: number;
}
