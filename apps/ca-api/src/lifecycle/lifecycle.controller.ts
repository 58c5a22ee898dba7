import { Body, Controller, HttpCode, HttpStatus, Param, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { HOLDER_GROUND_REASONS, LifecycleEvent } from '@moica/policy';
import { ProblemException, Public } from '@moica/platform';
import { Roles } from '../auth/roles.decorator';
import type { StaffPrincipal } from '../auth/principal';
import { counterChannel } from '../common/counter-channel';
import { ProblemResponses } from '../common/problem-responses';
import { Idempotent, IdempotentRequest } from '../idempotency/idempotency.interceptor';
import { ClientRateLimiter } from './client-rate-limiter';
import {
  CounterStatusChangeDto,
  CourtOrderDto,
  LifecycleResultDto,
  OnlineUserCodeDto,
  RevocationDto,
} from './lifecycle.dto';
import { LifecycleActor, LifecycleResult, LifecycleService } from './lifecycle.service';
import { UserCodeCheckService } from './user-code-check.service';

const CARD_NUMBER = /^[A-Z0-9]{8,20}$/;

function counterActor(principal: StaffPrincipal): LifecycleActor {
  return { kind: principal.role as LifecycleActor['kind'], id: principal.staffId, officeId: principal.officeId };
}


function checkCardNumber(cardNumber: string): void {
  if (!CARD_NUMBER.test(cardNumber)) {
    throw new ProblemException('invalid-request', HttpStatus.BAD_REQUEST, 'Bad Request', 'cardNumber must be 8 to 20 upper-case letters or digits');
  }
}

/** Suspension, resumption and revocation at a registration office (in person or by a delegate). */
@ApiTags('registration')
@ApiBearerAuth()
@Controller('v1/cards/:cardNumber')
export class CounterLifecycleController {
  constructor(private readonly lifecycle: LifecycleService) {}

  private run(cardNumber: string, event: LifecycleEvent, dto: CounterStatusChangeDto, request: IdempotentRequest, extra: { invalidityDate?: string } = {}) {
    checkCardNumber(cardNumber);
    return this.lifecycle.change({
      cardNumber,
      event,
      channel: counterChannel(dto.delegation),
      actor: counterActor(request.principal!),
      delegation: dto.delegation,
      invalidityDate: extra.invalidityDate ? new Date(extra.invalidityDate) : undefined,
      ticket: request.idempotency,
    });
  }

  @Post('suspension')
  @HttpCode(200)
  @Roles('clerk', 'supervisor')
  @Idempotent()
  @ApiParam({ name: 'cardNumber' })
  @ApiOperation({ summary: 'Suspend (停用) at the counter: holder in person or a delegate (the holder\'s card not needed)' })
  @ApiOkResponse({ type: LifecycleResultDto })
  @ProblemResponses(400, 401, 403, 404, 409, 422)
  suspend(@Param('cardNumber') cardNumber: string, @Body() dto: CounterStatusChangeDto, @Req() request: IdempotentRequest): Promise<LifecycleResult> {
    return this.run(cardNumber, { kind: 'suspend' }, dto, request);
  }

  @Post('resumption')
  @HttpCode(200)
  @Roles('clerk', 'supervisor')
  @Idempotent()
  @ApiParam({ name: 'cardNumber' })
  @ApiOperation({ summary: 'Resume (復用) at the counter: holder in person or a delegate' })
  @ApiOkResponse({ type: LifecycleResultDto })
  @ProblemResponses(400, 401, 403, 404, 409, 422)
  resume(@Param('cardNumber') cardNumber: string, @Body() dto: CounterStatusChangeDto, @Req() request: IdempotentRequest): Promise<LifecycleResult> {
    return this.run(cardNumber, { kind: 'resume' }, dto, request);
  }

  @Post('revocation')
  @HttpCode(200)
  @Roles('clerk', 'supervisor')
  @Idempotent()
  @ApiParam({ name: 'cardNumber' })
  @ApiOperation({ summary: 'Revoke (廢止) in person: final; never by a delegate' })
  @ApiOkResponse({ type: LifecycleResultDto })
  @ProblemResponses(400, 401, 403, 404, 409, 422)
  revoke(@Param('cardNumber') cardNumber: string, @Body() dto: RevocationDto, @Req() request: IdempotentRequest): Promise<LifecycleResult> {
    return this.run(cardNumber, { kind: 'revoke', reason: HOLDER_GROUND_REASONS[dto.ground] }, dto, request, { invalidityDate: dto.invalidityDate });
  }
}

/** Court or prosecutor's orders: suspension and its lifting (operators enter them). */
@ApiTags('operators')
@ApiBearerAuth()
@Controller('v1/court-orders')
export class CourtOrderController {
  constructor(private readonly lifecycle: LifecycleService) {}

  private run(dto: CourtOrderDto, event: LifecycleEvent, request: IdempotentRequest) {
    return this.lifecycle.change({
      cardNumber: dto.cardNumber,
      event,
      channel: 'court-order',
      actor: { kind: 'court', id: request.principal!.staffId, officeId: null },
      detail: { orderReference: dto.orderReference, authority: dto.authority, enteredBy: request.principal!.staffId },
      ticket: request.idempotency,
    });
  }

  @Post('suspensions')
  @HttpCode(200)
  @Roles('operator')
  @Idempotent()
  @ApiOperation({ summary: "Suspend a card by a court or prosecutor's order (only a court order lifts it)" })
  @ApiOkResponse({ type: LifecycleResultDto })
  @ProblemResponses(400, 401, 403, 404, 409, 422)
  suspend(@Body() dto: CourtOrderDto, @Req() request: IdempotentRequest): Promise<LifecycleResult> {
    return this.run(dto, { kind: 'suspend' }, request);
  }

  @Post('resumptions')
  @HttpCode(200)
  @Roles('operator')
  @Idempotent()
  @ApiOperation({ summary: 'Lift a court-ordered suspension' })
  @ApiOkResponse({ type: LifecycleResultDto })
  @ProblemResponses(400, 401, 403, 404, 409, 422)
  resume(@Body() dto: CourtOrderDto, @Req() request: IdempotentRequest): Promise<LifecycleResult> {
    return this.run(dto, { kind: 'resume' }, request);
  }
}

/** The holder online with the user code (DOMAIN.md: suspension and resumption). */
@ApiTags('holders online')
@Controller('v1/online')
export class OnlineLifecycleController {
  constructor(
    private readonly lifecycle: LifecycleService,
    private readonly userCodes: UserCodeCheckService,
    private readonly rateLimiter: ClientRateLimiter,
  ) {}

  private async run(dto: OnlineUserCodeDto, event: LifecycleEvent, request: IdempotentRequest): Promise<LifecycleResult> {
    this.rateLimiter.take(request.ip);
    const holderId = await this.userCodes.verify(dto.nationalId, dto.cardNumber, dto.userCode, request.ip);
    return this.lifecycle.change({
      cardNumber: dto.cardNumber,
      event,
      channel: 'online-user-code',
      actor: { kind: 'holder', id: holderId, officeId: null },
      ticket: request.idempotency,
    });
  }

  @Post('suspension')
  @HttpCode(200)
  @Public()
  @Idempotent()
  @ApiOperation({ summary: 'Suspend online with national ID, card number and user code' })
  @ApiOkResponse({ type: LifecycleResultDto })
  @ProblemResponses(400, 403, 404, 409, 422, 423, 429)
  suspend(@Body() dto: OnlineUserCodeDto, @Req() request: IdempotentRequest): Promise<LifecycleResult> {
    return this.run(dto, { kind: 'suspend' }, request);
  }

  @Post('resumption')
  @HttpCode(200)
  @Public()
  @Idempotent()
  @ApiOperation({ summary: 'Resume online with national ID, card number and user code' })
  @ApiOkResponse({ type: LifecycleResultDto })
  @ProblemResponses(400, 403, 404, 409, 422, 423, 429)
  resume(@Body() dto: OnlineUserCodeDto, @Req() request: IdempotentRequest): Promise<LifecycleResult> {
    return this.run(dto, { kind: 'resume' }, request);
  }
}
