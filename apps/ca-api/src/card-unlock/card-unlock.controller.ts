import { Body, Controller, Get, HttpCode, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Public } from '@moica/platform';
import { Roles } from '../auth/roles.decorator';
import { ProblemResponses } from '../common/problem-responses';
import { Idempotent, IdempotentRequest } from '../idempotency/idempotency.interceptor';
import { BureauExportRequestDto, BureauExportResponseDto, CardUnlockFailuresDto, CardUnlockRequestDto, CardUnlockResponseDto } from './card-unlock.dto';
import { BureauExport, CardUnlockAnswer, CardUnlockService } from './card-unlock.service';
import { CardUnlockFailures } from './card-unlock.repository';

/** The holder's card tool unlocks a locked card (鎖卡解碼) with the user code. */
@ApiTags('holders online')
@Controller('v1/online/card-unlock')
export class OnlineCardUnlockController {
  constructor(private readonly unlock: CardUnlockService) {}

  @Post()
  @HttpCode(200)
  @Public()
  @Idempotent()
  @ApiOperation({
    summary: "Answer the card's unblock challenge, after the user code is checked as for online suspension (docs/card-unlock.md)",
    description:
      'Problem types (urn:moica-ca:problem:<code>): 400 invalid-request, idempotency-key-required; ' +
      '403 user-code-incorrect (attemptsRemaining), card-not-holders; 404 card-not-found; ' +
      '409 card-revoked, card-unlock-challenge-replayed, card-unlock-key-unavailable; 413 invalid-request (a body over 1 MiB); ' +
      '423 user-code-locked (retryAfterSeconds); 429 rate-limited (retryAfterSeconds); 503 card-key-store-unavailable.',
  })
  @ApiOkResponse({ type: CardUnlockResponseDto })
  @ProblemResponses(400, 403, 404, 409, 413, 423, 429, 503)
  answer(@Body() dto: CardUnlockRequestDto, @Req() request: IdempotentRequest): Promise<CardUnlockAnswer> {
    return this.unlock.unlock(dto, request.ip, request.idempotency);
  }
}

/** Operators: the card bureau's key export, and cards with repeated failed unlock attempts. */
@ApiTags('operators')
@ApiBearerAuth()
@Controller('v1/operator/card-unlock')
export class CardUnlockOperatorController {
  constructor(private readonly unlock: CardUnlockService) {}

  @Get('failures')
  @Roles('operator', 'auditor')
  @ApiQuery({ name: 'hours', required: false, description: 'look-back, 1 to 720 hours (default 24)' })
  @ApiQuery({ name: 'minimum', required: false, description: 'refused attempts at least (default 3)' })
  @ApiOperation({ summary: 'Cards with repeated refused unlock attempts (from the audit log), most first' })
  @ApiOkResponse({ type: [CardUnlockFailuresDto] })
  @ProblemResponses(401, 403)
  failures(@Query('hours') hours?: string, @Query('minimum') minimum?: string): Promise<CardUnlockFailures[]> {
    return this.unlock.failures(bounded(hours, 24, 1, 720), bounded(minimum, 3, 1, 1000));
  }

  @Post('bureau-exports')
  @HttpCode(200)
  @Roles('operator')
  @Idempotent()
  @ApiOperation({
    summary: "Per-card unblock keys for the card bureau, wrapped under the bureau's transport key (RFC 3394)",
    description:
      'Only for card numbers not issued yet. Problem types: 400 invalid-request; 409 card-already-issued (cardNumbers), ' +
      'no-card-unlock-master-key, card-unlock-key-unavailable; 503 bureau-transport-key-not-configured, card-key-store-unavailable.',
  })
  @ApiOkResponse({ type: BureauExportResponseDto })
  @ProblemResponses(400, 401, 403, 409, 503)
  exportForBureau(@Body() dto: BureauExportRequestDto, @Req() request: IdempotentRequest): Promise<BureauExport> {
    return this.unlock.exportForBureau(dto.cardNumbers, request.principal!.staffId, request.idempotency);
  }
}

function bounded(value: string | undefined, fallback: number, min: number, max: number): number {
  const number = Number(value);
  return value === undefined || !Number.isInteger(number) ? fallback : Math.min(Math.max(number, min), max);
}
