import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  CertificateIssuer,
  CertificateProfile,
  derToPem,
  describeIssuer,
  moicaProfile,
  Signer,
} from '@moica/pki';
import { AppConfig, CaKeyRing, ProblemException } from '@moica/platform';
import { APP_CONFIG } from '../tokens';

/** An issuing CA as issuance needs it: key, certificate, profile, chain. */
export interface IssuingCa {
  id: string;
  name: string;
  signer: Signer;
  issuer: CertificateIssuer;
  profile: CertificateProfile;
  /** PEM of the issuing CA and its parents, leaf-most first (returned with every issuance). */
  chainPem: string[];
}

/**
 * The issuing CA(s) loaded by the key ring, with the MOICA profile of
 * DOMAIN.md configured per CA (its name in the URLs, its CRL partitions,
 * the public base URL for OCSP, CRLs and the CA certificate).
 */
@Injectable()
export class IssuingCaService {
  private cas = new Map<string, IssuingCa>();
  private current?: IssuingCa;

  constructor(
    private readonly keyRing: CaKeyRing,
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async load(): Promise<void> {
    const cas = new Map<string, IssuingCa>();
    let current: IssuingCa | undefined;
    for (const loaded of this.keyRing.all()) {
      const rows: Array<{ crl_partitions: number; chain: Buffer[] }> = await this.dataSource.query(
        `WITH RECURSIVE chain AS (
            SELECT id, parent_id, certificate_der, 0 AS depth FROM certificate_authority WHERE id = $1
            UNION ALL
            SELECT p.id, p.parent_id, p.certificate_der, c.depth + 1 FROM certificate_authority p JOIN chain c ON p.id = c.parent_id)
         SELECT (SELECT crl_partitions FROM certificate_authority WHERE id = $1) AS crl_partitions,
                array_agg(certificate_der ORDER BY depth) AS chain FROM chain`,
        [loaded.id],
      );
      const ca: IssuingCa = {
        id: loaded.id,
        name: loaded.name,
        signer: loaded.signer,
        issuer: describeIssuer(new Uint8Array(loaded.certificateDer)),
        profile: moicaProfile({ caLabel: loaded.name, baseUrl: this.config.PUBLIC_BASE_URL, crlPartitions: rows[0].crl_partitions }),
        chainPem: rows[0].chain.map((der) => derToPem(new Uint8Array(der), 'CERTIFICATE')),
      };
      cas.set(ca.id, ca);
      if (!current || ca.issuer.notBefore > current.issuer.notBefore) current = ca;
    }
    this.cas = cas;
    this.current = current;
  }

  /** The CA that issues new certificates now. */
  forNewCertificates(): IssuingCa {
    if (!this.current) {
      throw new ProblemException('no-issuing-ca', HttpStatus.SERVICE_UNAVAILABLE, 'No issuing CA', 'no issuing CA key is loaded');
    }
    return this.current;
  }

  /** The CA that issued an existing certificate (renewals stay with it). */
  byId(id: string): IssuingCa {
    const ca = this.cas.get(id);
    if (!ca) {
      throw new ProblemException('issuing-ca-unavailable', HttpStatus.SERVICE_UNAVAILABLE, 'Issuing CA unavailable', `CA ${id} is not loaded`);
    }
    return ca;
  }
}
