import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A pre-signed OCSP response (RFC 5019 §2.2.2) for one certificate and CertID hash algorithm. */
@Entity('ocsp_response')
export class OcspResponseEntity {
  @PrimaryColumn('uuid', { name: 'certificate_id' }) certificateId!: string;
  @PrimaryColumn('text', { name: 'hash_algorithm' }) hashAlgorithm!: 'sha1' | 'sha256';
  @Column('bytea') der!: Buffer;
  @Column('timestamptz', { name: 'this_update' }) thisUpdate!: Date;
  @Column('timestamptz', { name: 'next_update' }) nextUpdate!: Date;
  @Column('timestamptz', { name: 'produced_at' }) producedAt!: Date;
}
