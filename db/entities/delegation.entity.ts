import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** DOMAIN.md 委託代辦: an operation done at an office by a delegate for the holder. */
@Entity('delegation')
export class DelegationEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid', { name: 'holder_id' }) holderId!: string;
  @Column('text') operation!: string;
  @Column('text', { name: 'delegate_name' }) delegateName!: string;
  @Column('bytea', { name: 'delegate_id_ciphertext' }) delegateIdCiphertext!: Buffer;
  @Column('bytea', { name: 'delegate_id_hmac' }) delegateIdHmac!: Buffer;
  @Column('text', { name: 'form_reference' }) formReference!: string;
  @Column('boolean', { name: 'holder_card_presented' }) holderCardPresented!: boolean;
  @Column('uuid', { name: 'staff_id' }) staffId!: string;
  @Column('uuid', { name: 'office_id' }) officeId!: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
