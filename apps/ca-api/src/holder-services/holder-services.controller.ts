import { Body, Controller, HttpCode, HttpStatus, Param, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Channel } from '@moica/policy';
import { ProblemException, Public } from '@moica/platform';
import { Roles } from '../auth/roles.decorator';
import { counterChannel } from '../common/counter-channel';
import { ProblemResponses } from '../common/problem-responses';
import { Idempotent, IdempotentRequest } from '../idempotency/idempotency.interceptor';
import { CardSignatureService } from '../online/card-signature.service';
import type { DelegationRecord, LifecycleActor } from '../lifecycle/lifecycle.service';
import { ContactChangeDto, ContactConfirmationDto, OnlineUserCodeResetDto, PublicationDto, UserCodeResetDto } from './holder-services.dto';
import { HolderServicesService } from './holder-services.service';

function counter(request: IdempotentRequest, cardNumber: string, delegation?: DelegationRecord) {
  if (!/^[A-Z0-9]{8,20}$/.test(cardNumber)) throw new ProblemException('invalid-request', HttpStatus.BAD_REQUEST, 'Bad Request', 'bad card number');
  const principal = request.principal!;
  const channel: Channel = counterChannel(delegation);
  const actor: LifecycleActor = { kind: principal.role as 'clerk', id: principal.staffId, officeId: principal.officeId };
  return { cardNumber, channel, actor, delegation, ticket: request.idempotency! };
}

/** Holder services at the counter (DOMAIN.md's table: in person, or a delegate with the holder's card). */
@ApiTags('registration')
@ApiBearerAuth()
@Controller('v1/cards/:cardNumber')
export class CounterHolderServicesController {
  constructor(private readonly services: HolderServicesService) {}

  @Post('user-code')
  @HttpCode(200)
  @Roles('clerk', 'supervisor')
  @Idempotent()
  @ApiParam({ name: 'cardNumber' })
  @ApiOperation({ summary: 'Reset the user code (in person, or a delegate with the card)' })
  @ApiOkResponse({ description: 'reset' })
  @ProblemResponses(400, 401, 403, 404, 409, 422)
  resetUserCode(@Param('cardNumber') cardNumber: string, @Body() dto: UserCodeResetDto, @Req() request: IdempotentRequest) {
    return this.services.resetUserCode({ ...counter(request, cardNumber, dto.delegation), newUserCode: dto.newUserCode });
  }

  @Post('publication')
  @HttpCode(200)
  @Roles('clerk', 'supervisor')
  @Idempotent()
  @ApiParam({ name: 'cardNumber' })
  @ApiOperation({ summary: 'Change the publication status (in person, or a delegate with the card)' })
  @ApiOkResponse({ description: 'the new status' })
  @ProblemResponses(400, 401, 403, 404, 409, 422)
  setPublication(@Param('cardNumber') cardNumber: string, @Body() dto: PublicationDto, @Req() request: IdempotentRequest) {
    return this.services.setPublication({ ...counter(request, cardNumber, dto.delegation), consent: dto.consent });
  }

  @Post('contact-changes')
  @HttpCode(202)
  @Roles('clerk', 'supervisor')
  @Idempotent()
  @ApiParam({ name: 'cardNumber' })
  @ApiOperation({ summary: 'Start a change of mobile number (code by SMS) or contact e-mail (code by e-mail)' })
  @ApiOkResponse({ description: 'verificationId, expiry, masked destination' })
  @ProblemResponses(400, 401, 403, 404, 409, 422, 503)
  startContactChange(@Param('cardNumber') cardNumber: string, @Body() dto: ContactChangeDto, @Req() request: IdempotentRequest) {
    return this.services.startContactChange({ ...counter(request, cardNumber, dto.delegation), kind: dto.kind, newValue: dto.newValue });
  }

  @Post('contact-changes/confirmation')
  @HttpCode(200)
  @Roles('clerk', 'supervisor')
  @Idempotent()
  @ApiParam({ name: 'cardNumber' })
  @ApiOperation({ summary: 'Confirm a contact change with the code sent to the new number or address' })
  @ApiOkResponse({ description: 'the changed field' })
  @ProblemResponses(400, 401, 403, 404, 409, 422)
  confirmContactChange(@Param('cardNumber') cardNumber: string, @Body() dto: ContactConfirmationDto, @Req() request: IdempotentRequest) {
    return this.services.confirmContactChange({ ...counter(request, cardNumber, dto.delegation), verificationId: dto.verificationId, code: dto.code });
  }
}

/** The holder online with the card: user-code reset. */
@ApiTags('holders online')
@Public()
@Controller('v1/online/user-code')
export class OnlineUserCodeController {
  constructor(
    private readonly services: HolderServicesService,
    private readonly cardSignatures: CardSignatureService,
  ) {}

  @Post()
  @HttpCode(200)
  @Idempotent()
  @ApiOperation({ summary: 'Reset the user code online: the card signs a challenge (purpose user-code-reset)' })
  @ApiOkResponse({ description: 'reset' })
  @ProblemResponses(400, 403, 404, 409, 422)
  async reset(@Body() dto: OnlineUserCodeResetDto, @Req() request: IdempotentRequest) {
    const proof = await this.cardSignatures.verify(dto.cardSignature.challengeId, dto.cardSignature.signature, 'user-code-reset', request.idempotency!);
    return this.services.resetUserCode({
      cardNumber: proof.cardNumber,
      channel: 'online-card-signature',
      actor: { kind: 'holder', id: proof.holderId, officeId: null },
      cardSignature: proof,
      ticket: request.idempotency!,
      newUserCode: dto.newUserCode,
    });
  }
}
