import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A CRL as published (RFC 5280 §5): complete, partition (with IDP) or delta. */
@Entity('published_crl')
export class PublishedCrlEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid', { name: 'ca_id' }) caId!: string;
  @Column('bigint', { name: 'crl_number' }) crlNumber!: string;
  @Column('text') kind!: 'complete' | 'partition' | 'delta';
  @Column('integer', { nullable: true }) partition!: number | null;
  @Column('bigint', { name: 'base_crl_number', nullable: true }) baseCrlNumber!: string | null;
  @Column('timestamptz', { name: 'this_update' }) thisUpdate!: Date;
  @Column('timestamptz', { name: 'next_update' }) nextUpdate!: Date;
  @Column('integer', { name: 'entry_count' }) entryCount!: number;
  @Column('integer', { name: 'byte_size' }) byteSize!: number;
  @Column('bytea') sha256!: Buffer;
  @Column('bytea') der!: Buffer;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
