import { Provider } from '@nestjs/common';
import { CardUnlockOperatorController, OnlineCardUnlockController } from './card-unlock.controller';
import { CardUnlockKeyRing } from './card-unlock-key-ring';
import { CardUnlockRepository } from './card-unlock.repository';
import { CardUnlockService } from './card-unlock.service';

/**
 * Card unlock (issue 12, docs/card-unlock.md): controllers and providers for
 * CaApiModule to list next to its others (it provides DataSource, Clock,
 * APP_CONFIG, UserCodeCheckService, ClientRateLimiter,
 * CardCertificatesRepository and IdempotencyRepository).
 */
export const CARD_UNLOCK_CONTROLLERS = [OnlineCardUnlockController, CardUnlockOperatorController];
export const CARD_UNLOCK_PROVIDERS: Provider[] = [CardUnlockKeyRing, CardUnlockRepository, CardUnlockService];
