import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type CertificateKind = 'signature' | 'encryption' | 'ocsp-signer';
/** 'pending': recorded, not yet signed; 'abandoned': recorded, never signed (crash recovery). */
export type CertificateStatus = 'pending' | 'on_hold' | 'valid' | 'suspended' | 'revoked' | 'abandoned';

/** An issued (or about-to-be-issued) certificate. Expiry is derived from notAfter and the time. */
@Entity('certificate')
export class CertificateEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid', { name: 'ca_id' }) caId!: string;
  @Column('uuid', { name: 'card_id', nullable: true }) cardId!: string | null;
  /** The content octets of the DER INTEGER serialNumber (minimal two's complement), as in the certificate, CRL entries and OCSP CertIDs (serialIntegerContent). */
  @Column('bytea', { unique: true }) serial!: Buffer;
  @Column('text') kind!: CertificateKind;
  @Column('text') status!: CertificateStatus;
  @Column('timestamptz', { name: 'not_before' }) notBefore!: Date;
  @Column('timestamptz', { name: 'not_after' }) notAfter!: Date;
  @Column('bytea', { name: 'tbs_der' }) tbsDer!: Buffer;
  @Column('bytea', { nullable: true }) der!: Buffer | null;
  @Column('bytea', { name: 'spki_sha256' }) spkiSha256!: Buffer;
  @Column('integer', { name: 'crl_partition' }) crlPartition!: number;
  @Column('uuid', { name: 'renewed_from_id', nullable: true }) renewedFromId!: string | null;
  @Column('timestamptz', { name: 'revoked_at', nullable: true }) revokedAt!: Date | null;
  @Column('smallint', { name: 'revocation_reason', nullable: true }) revocationReason!: number | null;
  @Column('timestamptz', { name: 'invalidity_date', nullable: true }) invalidityDate!: Date | null;
  @Column('bytea', { name: 'crl_entry_der', nullable: true }) crlEntryDer!: Buffer | null;
  /** Who suspended: a court's suspension is lifted only by a court (DOMAIN.md). */
  @Column('text', { name: 'suspended_by', nullable: true }) suspendedBy!: 'holder' | 'court-order' | null;
  @Column('text', { name: 'email_in_certificate', nullable: true }) emailInCertificate!: string | null;
  @Column('timestamptz', { name: 'status_changed_at' }) statusChangedAt!: Date;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
