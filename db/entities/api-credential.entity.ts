import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** An API token (stored as its SHA-256 only) or an mTLS client certificate (by fingerprint). */
@Entity('api_credential')
export class ApiCredentialEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid', { name: 'staff_id' }) staffId!: string;
  @Column('text') kind!: 'token' | 'mtls';
  @Column('bytea', { name: 'secret_hash', nullable: true }) secretHash!: Buffer | null;
  @Column('bytea', { name: 'cert_sha256', nullable: true }) certSha256!: Buffer | null;
  @Column('text', { nullable: true }) description!: string | null;
  @Column('timestamptz', { name: 'expires_at', nullable: true }) expiresAt!: Date | null;
  @Column('timestamptz', { name: 'revoked_at', nullable: true }) revokedAt!: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
