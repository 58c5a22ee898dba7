import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/**
 * A certificate holder. The national ID number is only here encrypted and as
 * a keyed hash (DOMAIN.md: personal data, never in certificates, logs, URLs).
 */
@Entity('holder')
export class HolderEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('char', { name: 'holder_number', length: 16, unique: true }) holderNumber!: string;
  @Column('text') name!: string;
  @Column('bytea', { name: 'national_id_ciphertext' }) nationalIdCiphertext!: Buffer;
  @Column('bytea', { name: 'national_id_hmac', unique: true }) nationalIdHmac!: Buffer;
  @Column('char', { name: 'national_id_last4', length: 4 }) nationalIdLast4!: string;
  @Column('date', { name: 'date_of_birth' }) dateOfBirth!: string;
  @Column('text') mobile!: string;
  @Column('text', { name: 'contact_email' }) contactEmail!: string;
  @Column('boolean', { name: 'publication_consent' }) publicationConsent!: boolean;
  @Column('text', { name: 'user_code_hash' }) userCodeHash!: string;
  @Column('integer', { name: 'user_code_failures' }) userCodeFailures!: number;
  @Column('timestamptz', { name: 'user_code_locked_until', nullable: true }) userCodeLockedUntil!: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
