import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A payment notification from a provider; unique per provider trade number, so replays are harmless. */
@Entity('payment')
export class PaymentEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid', { name: 'order_id', nullable: true }) orderId!: string | null;
  @Column('text') provider!: string;
  @Column('text', { name: 'provider_trade_no' }) providerTradeNo!: string;
  @Column('integer', { name: 'amount_twd' }) amountTwd!: number;
  @Column('timestamptz', { name: 'paid_at' }) paidAt!: Date;
  @Column('text', { nullable: true }) flagged!: string | null;
  /** applied to its order, or kept for an operator: amount-mismatch, late, order-not-awaiting-payment, unknown-order, not-paid. */
  @Column('text', { default: 'applied' }) outcome!: string;
  @Column('jsonb') raw!: Record<string, unknown>;
  @Column('timestamptz', { name: 'received_at' }) receivedAt!: Date;
}
