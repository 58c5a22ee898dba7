import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { bigIntToBytes, bytesToBigInt, SharedPrimeIndex } from '@moica/pki';

/** Moduli per stored product (1,024 RSA-2048 moduli: a 256 KiB product). */
const CHUNK_MODULI = 1024;

/**
 * The shared-prime index of every certified RSA modulus (DOMAIN.md: in 2013,
 * 103 Taiwan citizen-card keys were factored through shared primes),
 * persisted as chunked products in rsa_modulus_product. Each process keeps a
 * copy and re-reads only the chunks whose version changed, so a check costs
 * one pass of modular reductions, not a table scan.
 */
@Injectable()
export class SharedPrimeRepository implements SharedPrimeIndex {
  private readonly cache = new Map<number, { version: string; product: bigint }>();

  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async *products(): AsyncIterable<bigint> {
    await this.refresh();
    for (const { product } of this.cache.values()) yield product;
  }

  private async refresh(): Promise<void> {
    const versions: Array<{ id: number; version: string }> = await this.dataSource.query(
      `SELECT id, version::text AS version FROM rsa_modulus_product`,
    );
    const stale = versions.filter((row) => this.cache.get(row.id)?.version !== row.version).map((row) => row.id);
    if (stale.length === 0) return;
    const rows: Array<{ id: number; version: string; product: Buffer }> = await this.dataSource.query(
      `SELECT id, version::text AS version, product FROM rsa_modulus_product WHERE id = ANY($1)`,
      [stale],
    );
    for (const row of rows) this.cache.set(row.id, { version: row.version, product: bytesToBigInt(new Uint8Array(row.product)) });
  }

  /** Adds certified moduli, inside the transaction that records their certificates. */
  async add(manager: EntityManager, moduli: bigint[]): Promise<void> {
    for (const modulus of moduli) {
      const open: Array<{ id: number; product: Buffer; moduli: number }> = await manager.query(
        `SELECT id, product, moduli FROM rsa_modulus_product WHERE moduli < $1 ORDER BY id DESC LIMIT 1 FOR UPDATE`,
        [CHUNK_MODULI],
      );
      if (open[0]) {
        const product = bytesToBigInt(new Uint8Array(open[0].product)) * modulus;
        await manager.query(
          `UPDATE rsa_modulus_product SET product = $2, moduli = moduli + 1, version = version + 1, updated_at = now() WHERE id = $1`,
          [open[0].id, Buffer.from(bigIntToBytes(product))],
        );
      } else {
        await manager.query(`INSERT INTO rsa_modulus_product (product, moduli) VALUES ($1, 1)`, [Buffer.from(bigIntToBytes(modulus))]);
      }
    }
  }
}
