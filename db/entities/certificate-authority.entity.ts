import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** An issuing or root CA of this service. `keyLocation` says where its key lives; never the key. */
@Entity('certificate_authority')
export class CertificateAuthorityEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('text', { unique: true }) name!: string;
  @Column('text') role!: 'root' | 'issuing';
  @Column('uuid', { name: 'parent_id', nullable: true }) parentId!: string | null;
  @Column('text', { name: 'subject_dn' }) subjectDn!: string;
  @Column('bytea', { name: 'certificate_der' }) certificateDer!: Buffer;
  @Column('text', { name: 'key_location' }) keyLocation!: string;
  @Column('text', { name: 'key_algorithm' }) keyAlgorithm!: string;
  @Column('bytea', { name: 'spki_sha1' }) spkiSha1!: Buffer;
  @Column('bytea', { name: 'spki_sha256' }) spkiSha256!: Buffer;
  @Column('bytea', { name: 'subject_sha1' }) subjectSha1!: Buffer;
  @Column('bytea', { name: 'subject_sha256' }) subjectSha256!: Buffer;
  @Column('timestamptz', { name: 'not_before' }) notBefore!: Date;
  @Column('timestamptz', { name: 'not_after' }) notAfter!: Date;
  @Column('boolean') active!: boolean;
  @Column('boolean') development!: boolean;
  @Column('integer', { name: 'crl_partitions' }) crlPartitions!: number;
  @Column('boolean', { name: 'expired_certs_on_crl' }) expiredCertsOnCrl!: boolean;
  @Column('bigint', { name: 'last_crl_number' }) lastCrlNumber!: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
