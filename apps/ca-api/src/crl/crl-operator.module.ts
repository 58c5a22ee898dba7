import { Module, Provider } from '@nestjs/common';
import { IdempotencyInterceptor } from '../idempotency/idempotency.interceptor';
import { IdempotencyRepository } from '../idempotency/idempotency.repository';
import { CrlOperatorController } from './crl-operator.controller';
import { CrlOperatorRepository } from './crl-operator.repository';
import { CrlOperatorService } from './crl-operator.service';

/** The providers of the CRL operator API, for a module that lists them flat. */
export const CRL_OPERATOR_PROVIDERS: Provider[] = [CrlOperatorRepository, CrlOperatorService, IdempotencyRepository, IdempotencyInterceptor];
export const CRL_OPERATOR_CONTROLLERS = [CrlOperatorController];

/**
 * The operator API of CRL publication (issue 7, docs/crl.md): schedules,
 * publish now, publications, published CRLs, metrics. It needs DataSource,
 * Clock and APP_CONFIG from the application module (CaApiModule exports
 * them; import this module where they are visible, e.g. CaApiModule made
 * `global: true`, or list CRL_OPERATOR_CONTROLLERS / CRL_OPERATOR_PROVIDERS
 * in CaApiModule itself). Routes are authorised by the app's AuthGuard.
 */
@Module({
  controllers: CRL_OPERATOR_CONTROLLERS,
  providers: CRL_OPERATOR_PROVIDERS,
})
export class CrlOperatorModule {}
