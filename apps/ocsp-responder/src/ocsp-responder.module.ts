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

export const APP_CONFIG = Symbol('APP_CONFIG');

/**
 * The relying parties' service (issue 6: OCSP, issue 7: CRL downloads). It
 * reads from DATABASE_READ_URL (a replica) when set, and holds only the
 * delegated OCSP signers' keys, never a CA key.
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
      imports: [LoggerModule.forRoot(httpLoggerParams('ocsp-responder', config.LOG_LEVEL))],
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
        {
          provide: READINESS_CHECKS,
          inject: [DataSource, CaKeyRing],
          useFactory: (ds: DataSource, ring: CaKeyRing) => [new DatabaseReadiness(ds), ring],
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
