import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { parseCertificate, type Signer } from '@moica/pki';
import { ReadinessCheck } from './readiness';

/** Opens the signer named by a key location (software:..., pkcs11:...). */
export type KeyOpener = (keyLocation: string, label: string) => Promise<Signer>;

export interface LoadedCa {
  id: string;
  name: string;
  certificateDer: Buffer;
  signer: Signer;
}

/**
 * The CA keys this process signs with, opened once at boot from the key
 * locations recorded in the database (never key material from it). A key
 * that cannot be opened, or whose public key differs from the certificate's,
 * keeps the process not ready and says which.
 */
export class CaKeyRing implements ReadinessCheck {
  readonly name = 'ca-keys';
  private readonly logger = new Logger(CaKeyRing.name);
  private readonly cas = new Map<string, LoadedCa>();
  private problems: string[] = ['not loaded yet'];

  constructor(
    private readonly dataSource: DataSource,
    private readonly openKey: KeyOpener,
    private readonly which: 'issuing-ca' | 'ocsp-signer',
  ) {}

  async load(): Promise<void> {
    const rows: Array<{ id: string; name: string; key_location: string; certificate_der: Buffer }> =
      this.which === 'issuing-ca'
        ? await this.dataSource.query(
            `SELECT id, name, key_location, certificate_der FROM certificate_authority WHERE role = 'issuing' AND active`,
          )
        : await this.dataSource.query(
            `SELECT s.id, c.name, s.key_location, s.certificate_der
               FROM ocsp_signer s JOIN certificate_authority c ON c.id = s.ca_id WHERE s.active AND c.active`,
          );
    const problems: string[] = [];
    for (const row of rows) {
      try {
        const signer = await this.openKey(row.key_location, `${this.which}:${row.name}`);
        const certified = parseCertificate(row.certificate_der).subjectPublicKeyInfoDer;
        if (!Buffer.from(certified).equals(Buffer.from(signer.publicKeySpki))) {
          await signer.close();
          throw new Error('the key does not match the certificate');
        }
        this.cas.set(row.id, { id: row.id, name: row.name, certificateDer: row.certificate_der, signer });
      } catch (error) {
        const message = `${this.which} ${row.name}: ${error instanceof Error ? error.message : String(error)}`;
        this.logger.error(message);
        problems.push(message);
      }
    }
    if (rows.length === 0) problems.push(`no active ${this.which} in the database (run the key ceremony or npm start)`);
    this.problems = problems;
  }

  get(id: string): LoadedCa | undefined {
    return this.cas.get(id);
  }

  all(): LoadedCa[] {
    return [...this.cas.values()];
  }

  async check(): Promise<string> {
    if (this.problems.length > 0) throw new Error(this.problems.join('; '));
    return `${this.cas.size} ${this.which} key(s) loaded`;
  }

  async close(): Promise<void> {
    await Promise.all([...this.cas.values()].map((ca) => ca.signer.close()));
    this.cas.clear();
  }
}
