import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A smart card. `capAt` is issuedAt + 8 years: no certificate of the card may outlive it (DOMAIN.md). */
@Entity('card')
export class CardEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid', { name: 'holder_id' }) holderId!: string;
  @Column('text', { name: 'card_number', unique: true }) cardNumber!: string;
  @Column('timestamptz', { name: 'issued_at' }) issuedAt!: Date;
  @Column('timestamptz', { name: 'cap_at' }) capAt!: Date;
  @Column('integer', { name: 'unblock_key_version' }) unblockKeyVersion!: number;
  @Column('uuid', { name: 'replaced_by_card_id', nullable: true }) replacedByCardId!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
