import { DynamicModule, Inject, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
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
  NationalIdVault,
  openDatabase,
  READINESS_CHECKS,
  UserCodeHasher,
} from '@moica/platform';
import { AuthGuard } from './auth/auth.guard';
import { CRL_OPERATOR_CONTROLLERS, CRL_OPERATOR_PROVIDERS } from './crl/crl-operator.module';
import { CARD_UNLOCK_CONTROLLERS, CARD_UNLOCK_PROVIDERS } from './card-unlock/card-unlock.module';
import { CONSOLE_CONTROLLERS, CONSOLE_PROVIDERS } from './console/console.module';
import { REISSUANCE_CONTROLLERS, REISSUANCE_PROVIDERS } from './reissuance/reissuance.module';
import { CertificateIssuanceService } from './certificates/certificate-issuance.service';
import { IssuingCaService } from './certificates/issuing-ca.service';
import { SharedPrimeRepository } from './certificates/shared-prime.repository';
import { IdempotencyInterceptor } from './idempotency/idempotency.interceptor';
import { IdempotencyRepository } from './idempotency/idempotency.repository';
import { CertificateStatusPublisher } from './lifecycle/certificate-status-publisher';
import { CardCertificatesRepository } from './lifecycle/card-certificates.repository';
import { ClientRateLimiter } from './lifecycle/client-rate-limiter';
import { HouseholdEventController } from './lifecycle/household-event.controller';
import { CounterLifecycleController, CourtOrderController, OnlineLifecycleController } from './lifecycle/lifecycle.controller';
import { DelegationRepository } from './lifecycle/delegation.repository';
import { LifecycleService } from './lifecycle/lifecycle.service';
import { UserCodeCheckService } from './lifecycle/user-code-check.service';
import { CardSignatureService } from './online/card-signature.service';
import { HolderChallengeRepository } from './online/holder-challenge.repository';
import { CounterRenewalController, OnlineCardController } from './online/renewal.controller';
import { RenewalService } from './online/renewal.service';
import { EmailCertificateService } from './online/email-certificate.service';
import { AuditController } from './operator/audit.controller';
import { JobQueueController } from './operator/job-queue.controller';
import { KeyOperationsController } from './operator/key-operations.controller';
import { CertificateAuthorityController } from './operator/certificate-authority.controller';
import { CertificateLookupController } from './public/certificate-lookup.controller';
import { ApplicationController } from './registration/application.controller';
import { ApplicationService } from './registration/application.service';
import { HolderRepository } from './registration/holder.repository';
import { APP_CONFIG, KEY_OPENER, NOTIFICATION_CHANNELS } from './tokens';
import { CounterHolderServicesController, OnlineUserCodeController } from './holder-services/holder-services.controller';
import { HolderServicesService } from './holder-services/holder-services.service';
import { VerificationCodeRepository } from './holder-services/verification-code.repository';
import { notificationChannelsFromConfig } from './notifications/channels-from-config';
import { prepareJobQueue } from './notifications/job-queue';
import { Pool } from 'pg';

export { APP_CONFIG, KEY_OPENER } from './tokens';

/**
 * The registration API (issue 5): configuration, database, clock, issuing CA
 * keys, authentication and authorisation of every route, idempotency, and
 * the feature controllers.
 */
@Module({})
export class CaApiModule implements OnModuleInit, OnApplicationShutdown {
  constructor(
    private readonly keyRing: CaKeyRing,
    private readonly issuingCas: IssuingCaService,
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  static forRoot(config: AppConfig, openKey: KeyOpener): DynamicModule {
    return {
      module: CaApiModule,
      imports: [LoggerModule.forRoot(httpLoggerParams('ca-api', config.LOG_LEVEL))],
      controllers: [
        HealthController,
        ApplicationController,
        CounterLifecycleController,
        CourtOrderController,
        OnlineLifecycleController,
        HouseholdEventController,
        CertificateLookupController,
        AuditController,
        CertificateAuthorityController,
        CounterRenewalController,
        OnlineCardController,
        CounterHolderServicesController,
        OnlineUserCodeController,
        ...CRL_OPERATOR_CONTROLLERS,
        ...REISSUANCE_CONTROLLERS,
        JobQueueController,
        KeyOperationsController,
        ...CARD_UNLOCK_CONTROLLERS,
        ...CONSOLE_CONTROLLERS,
      ],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: Clock, useValue: config.clock },
        { provide: KEY_OPENER, useValue: openKey },
        { provide: DataSource, useFactory: () => openDatabase(config.DATABASE_URL, 'moica-ca-api') },
        { provide: NationalIdVault, useValue: new NationalIdVault(config.piiEncryptionKey, config.piiHmacKey) },
        { provide: UserCodeHasher, useValue: new UserCodeHasher({ N: 2 ** config.USER_CODE_SCRYPT_LOG2N, r: 8, p: 1 }) },
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
        { provide: APP_GUARD, useClass: AuthGuard },
        IdempotencyRepository,
        IdempotencyInterceptor,
        IssuingCaService,
        SharedPrimeRepository,
        CertificateIssuanceService,
        CertificateStatusPublisher,
        HolderRepository,
        ApplicationService,
        CardCertificatesRepository,
        LifecycleService,
        DelegationRepository,
        UserCodeCheckService,
        ClientRateLimiter,
        CardSignatureService,
        HolderChallengeRepository,
        RenewalService,
        HolderServicesService,
        VerificationCodeRepository,
        EmailCertificateService,
        ...CRL_OPERATOR_PROVIDERS,
        ...CARD_UNLOCK_PROVIDERS,
        ...CONSOLE_PROVIDERS,
        ...REISSUANCE_PROVIDERS,
        { provide: NOTIFICATION_CHANNELS, useFactory: () => notificationChannelsFromConfig(config).channels },
      ],
      exports: [APP_CONFIG, Clock, DataSource, CaKeyRing],
    };
  }

  async onModuleInit(): Promise<void> {
    // Transactional notices are queued as graphile-worker jobs in the same transaction as the change.
    const pool = new Pool({ connectionString: this.config.DATABASE_URL, max: 1 });
    pool.on('error', () => undefined);
    pool.on('connect', (client) => client.on('error', () => undefined));
    try {
      await prepareJobQueue(pool);
    } finally {
      await pool.end();
    }
    await this.keyRing.load();
    await this.issuingCas.load();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.keyRing.close();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
