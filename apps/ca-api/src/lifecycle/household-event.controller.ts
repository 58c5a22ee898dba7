import { Body, Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { revocationReasonForHouseholdEvent } from '@moica/policy';
import { NationalIdVault } from '@moica/platform';
import { Roles } from '../auth/roles.decorator';
import { ProblemResponses } from '../common/problem-responses';
import { Idempotent, IdempotentRequest } from '../idempotency/idempotency.interceptor';
import { HouseholdEventDto } from './lifecycle.dto';
import { LifecycleResult, LifecycleService } from './lifecycle.service';

/**
 * Events from the household-registration system (DOMAIN.md "Automatic
 * revocation"): each revokes every live certificate of the person, with the
 * reason the policy gives the event, all in one transaction with the answer.
 * The integration calls with an operator credential of its own.
 */
@ApiTags('operators')
@ApiBearerAuth()
@Controller('v1/household-events')
export class HouseholdEventController {
  constructor(
    private readonly lifecycle: LifecycleService,
    private readonly vault: NationalIdVault,
    @Inject(DataSource) private readonly dataSource: DataSource,
  ) {}

  @Post()
  @HttpCode(200)
  @Roles('operator')
  @Idempotent()
  @ApiOperation({ summary: 'A household-registration event revokes the person\'s live certificates automatically' })
  @ApiOkResponse({ description: 'the cards whose certificates were revoked (none when the person has no live certificate)' })
  @ProblemResponses(400, 401, 403, 422)
  async report(@Body() dto: HouseholdEventDto, @Req() request: IdempotentRequest): Promise<{ revoked: LifecycleResult[] }> {
    const reason = revocationReasonForHouseholdEvent(dto.kind);
    const cards: Array<{ card_number: string }> = await this.dataSource.query(
      `SELECT DISTINCT k.card_number FROM card k JOIN holder h ON h.id = k.holder_id
         JOIN certificate c ON c.card_id = k.id
        WHERE h.national_id_hmac = $1 AND c.status IN ('valid', 'suspended', 'on_hold') ORDER BY 1`,
      [this.vault.lookupHash(dto.nationalId)],
    );
    // All cards and the answer in one transaction: a retry that took the claim over finds the event not applied yet.
    return this.lifecycle.revokeCards(
      cards.map((card) => card.card_number),
      {
        event: { kind: 'revoke', reason },
        channel: 'household-registration-event',
        actor: { kind: 'household-registration', id: request.principal!.staffId, officeId: null },
        detail: { event: dto.kind, eventReference: dto.eventReference },
      },
      request.idempotency!,
    );
  }
}
