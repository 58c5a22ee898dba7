import { DynamicModule, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { Pool } from 'pg';
import { AppConfig, Clock } from '@moica/platform';
import { CrlDistributionController } from './crl-distribution.controller';
import { CrlStore } from './crl-store';

const CRL_POOL = Symbol('CRL_POOL');

/**
 * CRL downloads for relying parties (issue 7). Its own small pg pool on the
 * read replica when DATABASE_READ_URL is set (binary COPY of the DER needs a
 * plain pg client), so it shares nothing with the OCSP hot path.
 */
@Module({})
export class CrlDistributionModule implements OnApplicationShutdown {
  constructor(@Inject(CRL_POOL) private readonly pool: Pool) {}

  static forRoot(config: AppConfig, options: { cacheBytes?: number } = {}): DynamicModule {
    return {
      module: CrlDistributionModule,
      controllers: [CrlDistributionController],
      providers: [
        {
          provide: CRL_POOL,
          useFactory: () =>
            new Pool({ connectionString: config.DATABASE_READ_URL ?? config.DATABASE_URL, application_name: 'moica-crl-distribution', max: 4 }),
        },
        { provide: CrlStore, inject: [CRL_POOL], useFactory: (pool: Pool) => new CrlStore(pool, options.cacheBytes) },
        { provide: Clock, useValue: config.clock },
      ],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}
