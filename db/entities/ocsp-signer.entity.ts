import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A delegated OCSP signer of a CA (RFC 6960 §4.2.2.2). */
@Entity('ocsp_signer')
export class OcspSignerEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid', { name: 'ca_id' }) caId!: string;
  @Column('bytea', { name: 'certificate_der' }) certificateDer!: Buffer;
  @Column('text', { name: 'key_location' }) keyLocation!: string;
  @Column('text', { name: 'key_algorithm' }) keyAlgorithm!: string;
  @Column('timestamptz', { name: 'not_before' }) notBefore!: Date;
  @Column('timestamptz', { name: 'not_after' }) notAfter!: Date;
  @Column('boolean') active!: boolean;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
