import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type ReissuanceOrderState =
  | 'created' | 'awaiting_payment' | 'paid' | 'in_production' | 'shipped' | 'delivered' | 'activated' | 'expired' | 'cancelled';

/** DOMAIN.md 線上換發: a new card ordered online and sent by mail. */
@Entity('reissuance_order')
export class ReissuanceOrderEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid', { name: 'holder_id' }) holderId!: string;
  @Column('uuid', { name: 'old_card_id' }) oldCardId!: string;
  @Column('uuid', { name: 'new_card_id', nullable: true }) newCardId!: string | null;
  @Column('text') state!: ReissuanceOrderState;
  @Column('integer', { name: 'amount_twd' }) amountTwd!: number;
  @Column('text', { name: 'payment_method', nullable: true }) paymentMethod!: 'atm' | 'credit_card' | null;
  @Column('text', { name: 'virtual_account', nullable: true, unique: true }) virtualAccount!: string | null;
  @Column('timestamptz', { name: 'payment_deadline', nullable: true }) paymentDeadline!: Date | null;
  @Column('text', { name: 'postal_code', nullable: true }) postalCode!: string | null;
  @Column('text', { nullable: true }) address!: string | null;
  @Column('text', { name: 'tracking_number', nullable: true }) trackingNumber!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
