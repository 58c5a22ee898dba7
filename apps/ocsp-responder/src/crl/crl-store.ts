import type { Pool } from 'pg';
import { readPublishedCrlDer } from '../../../../db/crl-copy';
import type { CrlPathScope } from '../../../../db/crl-partition';

/** The current CRL of a scope, without its bytes. */
export interface CurrentCrl {
  id: string;
  crlNumber: string;
  thisUpdate: Date;
  nextUpdate: Date;
  sha256: string;
  byteSize: number;
}

/**
 * Current CRLs and their bytes for the distribution point (docs/crl.md,
 * "Distribution"). Decision: the newest CRL of each scope is found by an
 * indexed query per request (so a new CRL is served as soon as it is
 * committed, by every responder), and its DER is kept in memory, keyed by
 * published_crl id, in an LRU bounded by `maxBytes`: a 48 MB complete CRL
 * is read once per responder (streamed by binary COPY into one buffer of
 * its final size - no hex text, no second copy), then served from memory to
 * every relying party. Conditional requests (ETag, Last-Modified) never
 * load the bytes.
 */
export class CrlStore {
  private readonly cache = new Map<string, Buffer>();
  private readonly loading = new Map<string, Promise<Buffer>>();
  private cachedBytes = 0;

  constructor(
    private readonly pool: Pool,
    readonly maxBytes = 256 * 1024 * 1024,
  ) {}

  /** The newest CRL published for a scope, or undefined. */
  async current(scope: CrlPathScope): Promise<CurrentCrl | undefined> {
    const { rows } = await this.pool.query<{
      id: string;
      crl_number: string;
      this_update: Date;
      next_update: Date;
      sha256: Buffer;
      byte_size: number;
    }>(
      `SELECT p.id, p.crl_number, p.this_update, p.next_update, p.sha256, p.byte_size
         FROM published_crl p
        WHERE p.ca_id = (SELECT id FROM certificate_authority WHERE name = $1 AND role = 'issuing')
          AND p.kind = $2 AND ${scope.partition === null ? 'p.partition IS NULL' : 'p.partition = $3'}
        ORDER BY p.crl_number DESC LIMIT 1`,
      scope.partition === null ? [scope.caName, scope.kind] : [scope.caName, scope.kind, scope.partition],
    );
    const row = rows[0];
    return (
      row && {
        id: row.id,
        crlNumber: String(row.crl_number),
        thisUpdate: row.this_update,
        nextUpdate: row.next_update,
        sha256: row.sha256.toString('hex'),
        byteSize: row.byte_size,
      }
    );
  }

  /** The DER of a published CRL, from memory or read once from PostgreSQL. */
  async der(crl: CurrentCrl): Promise<Buffer> {
    const cached = this.cache.get(crl.id);
    if (cached) {
      this.cache.delete(crl.id); // most recently used last
      this.cache.set(crl.id, cached);
      return cached;
    }
    let pending = this.loading.get(crl.id);
    if (!pending) {
      pending = this.load(crl).finally(() => this.loading.delete(crl.id));
      this.loading.set(crl.id, pending);
    }
    return pending;
  }

  private async load(crl: CurrentCrl): Promise<Buffer> {
    const der = await readPublishedCrlDer(this.pool, crl.id);
    if (!der || der.length !== crl.byteSize) throw new Error(`published CRL ${crl.id} could not be read whole`);
    this.remember(crl.id, der);
    return der;
  }

  private remember(id: string, der: Buffer): void {
    if (der.length > this.maxBytes) return;
    this.cache.set(id, der);
    this.cachedBytes += der.length;
    for (const [oldest, bytes] of this.cache) {
      if (this.cachedBytes <= this.maxBytes) break;
      this.cache.delete(oldest);
      this.cachedBytes -= bytes.length;
    }
  }
}
