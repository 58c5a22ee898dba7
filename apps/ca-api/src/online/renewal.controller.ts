import { Body, Controller, HttpCode, HttpStatus, Param, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ProblemException, Public } from '@moica/platform';
import { Roles } from '../auth/roles.decorator';
import { counterChannel } from '../common/counter-channel';
import { ProblemResponses } from '../common/problem-responses';
import { Idempotent, IdempotentRequest } from '../idempotency/idempotency.interceptor';
import { CardSignatureService } from './card-signature.service';
import { ChallengeDto, ChallengeRequestDto, CounterRenewalDto, EmailInCertificateConfirmationDto, EmailInCertificateDto, OnlineRenewalDto } from './online.dto';
import { EmailCertificateService } from './email-certificate.service';
import { RenewalResult, RenewalService } from './renewal.service';

/** Renewal at the counter: the holder in person or a delegate who brings the card. */
@ApiTags('registration')
@ApiBearerAuth()
@Controller('v1/cards/:cardNumber/renewal')
export class CounterRenewalController {
  constructor(private readonly renewals: RenewalService) {}

  @Post()
  @HttpCode(201)
  @Roles('clerk', 'supervisor')
  @Idempotent()
  @ApiParam({ name: 'cardNumber' })
  @ApiOperation({ summary: 'Renew (展期) at the counter: same keys, valid to the 8-year cap' })
  @ApiCreatedResponse({ description: 'the renewed certificates and the chain' })
  @ProblemResponses(400, 401, 403, 404, 409, 422, 503)
  renew(@Param('cardNumber') cardNumber: string, @Body() dto: CounterRenewalDto, @Req() request: IdempotentRequest): Promise<RenewalResult> {
    if (!/^[A-Z0-9]{8,20}$/.test(cardNumber)) throw new ProblemException('invalid-request', HttpStatus.BAD_REQUEST, 'Bad Request', 'bad card number');
    const principal = request.principal!;
    return this.renewals.renew({
      cardNumber,
      csrs: dto.csrs,
      channel: counterChannel(dto.delegation),
      actor: { kind: principal.role as 'clerk', id: principal.staffId, officeId: principal.officeId },
      delegation: dto.delegation,
      ticket: request.idempotency!,
    });
  }
}

/** The holder online with the card: challenge, then the signed operation. */
@ApiTags('holders online')
@Public()
@Controller('v1/online')
export class OnlineCardController {
  constructor(
    private readonly cardSignatures: CardSignatureService,
    private readonly renewals: RenewalService,
    private readonly emailCertificates: EmailCertificateService,
  ) {}

  @Post('email-in-certificate')
  @HttpCode(202)
  @Idempotent()
  @ApiOperation({ summary: 'Ask to add the e-mail address to the signature certificate: the card signs a challenge; a code goes to the address' })
  @ApiOkResponse({ description: 'verificationId and expiry' })
  @ProblemResponses(400, 403, 404, 409, 422, 503)
  async addEmail(@Body() dto: EmailInCertificateDto, @Req() request: IdempotentRequest): Promise<{ verificationId: string; expiresAt: string }> {
    const proof = await this.cardSignatures.verify(dto.cardSignature.challengeId, dto.cardSignature.signature, 'add-email-to-certificate', request.idempotency!);
    return this.emailCertificates.start(proof, dto.email, request.idempotency!);
  }

  @Post('email-in-certificate/confirmation')
  @HttpCode(201)
  @Idempotent()
  @ApiOperation({ summary: 'Confirm with the code: a new signature certificate with the rfc822Name is issued; the old one is superseded' })
  @ApiOkResponse({ description: 'the new certificate' })
  @ProblemResponses(400, 404, 409, 422, 503)
  confirmEmail(@Body() dto: EmailInCertificateConfirmationDto, @Req() request: IdempotentRequest) {
    return this.emailCertificates.confirm({ verificationId: dto.verificationId, code: dto.code, csr: dto.csr, ticket: request.idempotency! });
  }

  @Post('challenges')
  @HttpCode(201)
  @ApiOperation({ summary: 'A one-time challenge for the card to sign (valid 5 minutes, one use)' })
  @ApiCreatedResponse({ type: ChallengeDto })
  @ProblemResponses(400)
  challenge(@Body() dto: ChallengeRequestDto): Promise<ChallengeDto> {
    return this.cardSignatures.issueChallenge(dto.cardNumber, dto.purpose);
  }

  @Post('renewal')
  @HttpCode(201)
  @Idempotent()
  @ApiOperation({ summary: 'Renew online: the card signs a challenge and two new requests with the same keys' })
  @ApiOkResponse({ description: 'the renewed certificates and the chain' })
  @ProblemResponses(400, 403, 404, 409, 422, 503)
  async renew(@Body() dto: OnlineRenewalDto, @Req() request: IdempotentRequest): Promise<RenewalResult> {
    const proof = await this.cardSignatures.verify(dto.cardSignature.challengeId, dto.cardSignature.signature, 'renewal', request.idempotency!);
    return this.renewals.renew({
      cardNumber: proof.cardNumber,
      csrs: dto.csrs,
      channel: 'online-card-signature',
      actor: { kind: 'holder', id: proof.holderId, officeId: null },
      cardSignature: proof,
      ticket: request.idempotency!,
    });
  }
}
