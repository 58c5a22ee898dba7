import { Module, Provider } from '@nestjs/common';
import { IdempotencyInterceptor } from '../idempotency/idempotency.interceptor';
import { IdempotencyRepository } from '../idempotency/idempotency.repository';
import { CrlOperatorController } from './crl-operator.controller';
import { CrlOperatorRepository } from './crl-operator.repository';
import { CrlOperatorService } from './crl-operator.service';

/**
 * The CRL operator API's own controller and providers, for CaApiModule to
 * list flat next to its others (it already provides DataSource, Clock,
 * APP_CONFIG, IdempotencyRepository and IdempotencyInterceptor).
 */
export const CRL_OPERATOR_CONTROLLERS = [CrlOperatorController];
export const CRL_OPERATOR_PROVIDERS: Provider[] = [CrlOperatorRepository, CrlOperatorService];

/**
 * The operator API of CRL publication (issue 7, docs/crl.md): schedules,
 * publish now, publications, published CRLs, metrics. It needs DataSource,
 * Clock and APP_CONFIG from the application module: CaApiModule exports
 * them, so import this module with CaApiModule's dynamic module marked
 * `global: true` - or list CRL_OPERATOR_CONTROLLERS and
 * CRL_OPERATOR_PROVIDERS in CaApiModule itself. Routes are authorised by the
 * app's AuthGuard (APP_GUARD).
 */
@Module({
  controllers: CRL_OPERATOR_CONTROLLERS,
  providers: [...CRL_OPERATOR_PROVIDERS, IdempotencyRepository, IdempotencyInterceptor],
})
export class CrlOperatorModule {}
