import { Provider } from '@nestjs/common';
import { APP_CONFIG } from '../tokens';
import type { AppConfig } from '@moica/platform';
import { CardActivationService } from './card-activation.service';
import { CardProductionService } from './card-production.service';
import { FormBodyParser } from './form-body-parser';
import { PaymentNotificationService } from './payment-notification.service';
import { PAYMENT_GATEWAY, paymentGatewayFromConfig } from './payment/payment-gateway-from-config';
import { CardBureauController, OnlineReissuanceController, PaymentNotificationController } from './reissuance.controller';
import { ReissuanceOrderRepository } from './reissuance-order.repository';
import { ReissuanceOrderService } from './reissuance-order.service';

/**
 * Online re-issuance (issue 9, docs/reissuance.md): controllers and providers
 * for CaApiModule to list flat next to its others (it provides DataSource,
 * Clock, APP_CONFIG, the issuance, status, card-signature and user-code
 * services these build on).
 */
export const REISSUANCE_CONTROLLERS = [OnlineReissuanceController, PaymentNotificationController, CardBureauController];
export const REISSUANCE_PROVIDERS: Provider[] = [
  { provide: PAYMENT_GATEWAY, inject: [APP_CONFIG], useFactory: (config: AppConfig) => paymentGatewayFromConfig(config) },
  FormBodyParser,
  ReissuanceOrderRepository,
  ReissuanceOrderService,
  PaymentNotificationService,
  CardProductionService,
  CardActivationService,
];
