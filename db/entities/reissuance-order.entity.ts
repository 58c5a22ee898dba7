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
  @Column('text', { name: 'order_number', nullable: true, unique: true }) orderNumber!: string | null;
  @Column('uuid', { name: 'old_certificate_id', nullable: true }) oldCertificateId!: string | null;
  @Column('text', { name: 'printed_name', nullable: true }) printedName!: string | null;
  @Column('timestamptz', { name: 'card_valid_until', nullable: true }) cardValidUntil!: Date | null;
  @Column('text', { name: 'payment_provider', nullable: true }) paymentProvider!: string | null;
  @Column('text', { name: 'bank_code', nullable: true }) bankCode!: string | null;
  @Column('timestamptz', { name: 'paid_at', nullable: true }) paidAt!: Date | null;
  @Column('uuid', { name: 'production_batch_id', nullable: true }) productionBatchId!: string | null;
  @Column('date', { name: 'delivery_earliest', nullable: true }) deliveryEarliest!: string | null;
  @Column('date', { name: 'delivery_latest', nullable: true }) deliveryLatest!: string | null;
  @Column('timestamptz', { name: 'shipped_at', nullable: true }) shippedAt!: Date | null;
  @Column('timestamptz', { name: 'delivered_at', nullable: true }) deliveredAt!: Date | null;
  @Column('timestamptz', { name: 'activated_at', nullable: true }) activatedAt!: Date | null;
  @Column('timestamptz', { name: 'closed_at', nullable: true }) closedAt!: Date | null;
  @Column('boolean', { name: 'refund_due', default: false }) refundDue!: boolean;
  @Column('integer', { name: 'payment_attempt', default: 0 }) paymentAttempt!: number;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
