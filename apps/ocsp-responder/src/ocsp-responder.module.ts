import { DynamicModule, Inject, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import {
  AppConfig,
  CaKeyRing,
  Clock,
  DatabaseReadiness,
  HealthController,
  httpLoggerParams,
  KeyOpener,
  openDatabase,
  READINESS_CHECKS,
} from '@moica/platform';
import { CrlDistributionModule } from './crl/crl-distribution.module';
import { OcspService } from './ocsp/ocsp.service';

export const APP_CONFIG = Symbol('APP_CONFIG');

/**
 * The relying parties' service (issue 6: OCSP, issue 7: CRL downloads). It
 * reads from DATABASE_READ_URL (a replica) when set, and holds only the
 * delegated OCSP signers' keys, never a CA key. The OCSP routes themselves
 * are raw Fastify routes registered by main.ts (ocsp/ocsp-http.ts).
 */
@Module({})
export class OcspResponderModule implements OnModuleInit, OnApplicationShutdown {
  constructor(
    private readonly signers: CaKeyRing,
    @Inject(DataSource) private readonly dataSource: DataSource,
  ) {}

  static forRoot(config: AppConfig, openKey: KeyOpener): DynamicModule {
    return {
      module: OcspResponderModule,
      imports: [
        LoggerModule.forRoot(httpLoggerParams('ocsp-responder', config.LOG_LEVEL)),
        // CRL downloads (issue 7): /crl/{ca}/{partition|complete}[-delta].crl
        CrlDistributionModule.forRoot(config),
      ],
      controllers: [HealthController],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: Clock, useValue: config.clock },
        {
          provide: DataSource,
          useFactory: () => openDatabase(config.DATABASE_READ_URL ?? config.DATABASE_URL, 'moica-ocsp-responder'),
        },
        {
          provide: CaKeyRing,
          inject: [DataSource],
          useFactory: (ds: DataSource) => new CaKeyRing(ds, openKey, 'ocsp-signer'),
        },
        // OCSP (issue 6): answers once the key ring is loaded (onApplicationBootstrap).
        { provide: OcspService, inject: [Clock, CaKeyRing], useFactory: (clock: Clock, ring: CaKeyRing) => new OcspService(config, clock, ring) },
        {
          provide: READINESS_CHECKS,
          inject: [DataSource, CaKeyRing, OcspService],
          useFactory: (ds: DataSource, ring: CaKeyRing, ocsp: OcspService) => [new DatabaseReadiness(ds), ring, ocsp],
        },
      ],
    };
  }

  async onModuleInit(): Promise<void> {
    await this.signers.load();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.signers.close();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
