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
export const KEY_OPENER = Symbol('KEY_OPENER');

/**
 * The registration API (issue 5). This module wires configuration, the
 * database, the clock, the issuing CA keys and health; feature modules are
 * added as they are built.
 */
@Module({})
export class CaApiModule implements OnModuleInit, OnApplicationShutdown {
  constructor(
    private readonly keyRing: CaKeyRing,
    @Inject(DataSource) private readonly dataSource: DataSource,
  ) {}

  static forRoot(config: AppConfig, openKey: KeyOpener): DynamicModule {
    return {
      module: CaApiModule,
      imports: [LoggerModule.forRoot(httpLoggerParams('ca-api', config.LOG_LEVEL))],
      controllers: [HealthController],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: Clock, useValue: config.clock },
        { provide: KEY_OPENER, useValue: openKey },
        { provide: DataSource, useFactory: () => openDatabase(config.DATABASE_URL, 'moica-ca-api') },
        {
          provide: CaKeyRing,
          inject: [DataSource, KEY_OPENER],
          useFactory: (ds: DataSource, opener: KeyOpener) => new CaKeyRing(ds, opener, 'issuing-ca'),
        },
        {
          provide: READINESS_CHECKS,
          inject: [DataSource, CaKeyRing],
          useFactory: (ds: DataSource, ring: CaKeyRing) => [new DatabaseReadiness(ds), ring],
        },
      ],
      exports: [APP_CONFIG, Clock, DataSource, CaKeyRing],
    };
  }

  async onModuleInit(): Promise<void> {
    await this.keyRing.load();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.keyRing.close();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
