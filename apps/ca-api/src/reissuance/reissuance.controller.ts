import { Body, Controller, Get, Header, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Public } from '@moica/platform';
import { Roles } from '../auth/roles.decorator';
import { ProblemResponses } from '../common/problem-responses';
import { Idempotent, IdempotentRequest } from '../idempotency/idempotency.interceptor';
import { ClientRateLimiter } from '../lifecycle/client-rate-limiter';
import { UserCodeCheckService } from '../lifecycle/user-code-check.service';
import { CardSignatureService } from '../online/card-signature.service';
import { CardActivationService } from './card-activation.service';
import { CardProductionService } from './card-production.service';
import { PaymentNotificationService } from './payment-notification.service';
import { ECPAY_PAYMENT_INFO_PATH, ECPAY_RETURN_PATH } from './payment/ecpay.gateway';
import {
  ActivationDto,
  BureauCardDto,
  OrderCancellationDto,
  PaymentStartDto,
  ReissuanceOrderDto,
  ReissuanceOrderRequestDto,
  ShipmentDto,
} from './reissuance.dto';
import { ReissuanceOrderService } from './reissuance-order.service';

/** The holder online: order, pay, cancel before production, activate the new card (開卡). */
@ApiTags('holders online')
@Public()
@Controller('v1/online/reissuance')
export class OnlineReissuanceController {
  constructor(
    private readonly cardSignatures: CardSignatureService,
    private readonly orders: ReissuanceOrderService,
    private readonly activation: CardActivationService,
    private readonly userCodes: UserCodeCheckService,
    private readonly rateLimiter: ClientRateLimiter,
  ) {}

  @Post('orders')
  @HttpCode(201)
  @Idempotent()
  @ApiOperation({ summary: 'Order a new card by mail (線上換發): the old card signs a challenge (purpose online-reissuance)' })
  @ApiCreatedResponse({ type: ReissuanceOrderDto })
  @ProblemResponses(400, 403, 404, 409, 422)
  async create(@Body() dto: ReissuanceOrderRequestDto, @Req() request: IdempotentRequest): Promise<ReissuanceOrderDto> {
    const proof = await this.cardSignatures.verify(dto.cardSignature.challengeId, dto.cardSignature.signature, 'online-reissuance', request.idempotency!);
    return this.orders.create(proof, { postalCode: dto.postalCode, address: dto.address, ticket: request.idempotency! });
  }

  @Get('orders/:orderId')
  @ApiParam({ name: 'orderId', description: 'The order id returned at ordering (unguessable; it reveals no address or ID)' })
  @ApiOperation({ summary: 'State of an order: payment details, delivery estimate, tracking number, refund policy' })
  @ApiOkResponse({ type: ReissuanceOrderDto })
  @ProblemResponses(404)
  view(@Param('orderId') orderId: string): Promise<ReissuanceOrderDto> {
    return this.orders.view(orderId);
  }

  @Post('orders/:orderId/payment')
  @HttpCode(200)
  @Idempotent()
  @ApiOperation({ summary: "Pay by ATM transfer or credit card: the form the browser posts to the gateway's hosted page" })
  @ApiOkResponse({ description: '{ order, checkout: { action, method, fields } }' })
  @ProblemResponses(400, 404, 409)
  pay(@Param('orderId') orderId: string, @Body() dto: PaymentStartDto, @Req() request: IdempotentRequest) {
    return this.orders.startPayment(orderId, dto.method, request.idempotency!);
  }

  @Post('orders/:orderId/cancellation')
  @HttpCode(200)
  @Idempotent()
  @ApiOperation({ summary: 'Cancel before production (a paid order is refunded); refused once in production: no refund' })
  @ApiOkResponse({ type: ReissuanceOrderDto })
  @ProblemResponses(400, 403, 404, 409)
  async cancel(@Param('orderId') orderId: string, @Body() dto: OrderCancellationDto, @Req() request: IdempotentRequest): Promise<ReissuanceOrderDto> {
    const proof = await this.cardSignatures.verify(dto.cardSignature.challengeId, dto.cardSignature.signature, 'online-reissuance', request.idempotency!);
    return this.orders.cancel(proof, orderId, request.idempotency!);
  }

  @Post('activation')
  @HttpCode(200)
  @Idempotent()
  @ApiOperation({ summary: "Activate the new card (開卡): it signs a challenge (purpose activation) and the holder gives the user code; the old card's certificates are superseded" })
  @ApiOkResponse({ description: 'the activated certificates and the superseded serials' })
  @ProblemResponses(400, 403, 404, 409, 423, 429)
  async activate(@Body() dto: ActivationDto, @Req() request: IdempotentRequest) {
    this.rateLimiter.take(request.ip);
    const proof = await this.cardSignatures.verify(dto.cardSignature.challengeId, dto.cardSignature.signature, 'activation', request.idempotency!);
    const holderId = await this.userCodes.verify(dto.nationalId, proof.cardNumber, dto.userCode, request.ip);
    return this.activation.activate(proof, holderId, request.idempotency!);
  }
}

/** Signed notifications from the payment gateway (ECPay ReturnURL and PaymentInfoURL); answered `1|OK` once recorded. */
@ApiTags('payment gateway')
@Public()
@Controller()
export class PaymentNotificationController {
  constructor(private readonly notifications: PaymentNotificationService) {}

  @Post(ECPAY_RETURN_PATH)
  @HttpCode(200)
  @Header('content-type', 'text/plain; charset=utf-8')
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiProduces('text/plain')
  @ApiBody({ schema: { type: 'object', additionalProperties: { type: 'string' } } })
  @ApiOperation({ summary: 'ECPay payment result (ReturnURL): CheckMacValue verified; duplicates harmless; mismatches recorded and flagged' })
  @ApiOkResponse({ description: '`1|OK`' })
  @ProblemResponses(400, 409)
  async paymentResult(@Body() fields: Record<string, string>): Promise<string> {
    return (await this.notifications.receive(stringFields(fields))).acknowledgement;
  }

  @Post(ECPAY_PAYMENT_INFO_PATH)
  @HttpCode(200)
  @Header('content-type', 'text/plain; charset=utf-8')
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiProduces('text/plain')
  @ApiBody({ schema: { type: 'object', additionalProperties: { type: 'string' } } })
  @ApiOperation({ summary: 'ECPay ATM virtual account assigned (PaymentInfoURL, RtnCode 2): stored on the order' })
  @ApiOkResponse({ description: '`1|OK`' })
  @ProblemResponses(400, 409)
  async paymentInfo(@Body() fields: Record<string, string>): Promise<string> {
    return (await this.notifications.receive(stringFields(fields))).acknowledgement;
  }
}

/** The card bureau (operators): production batches, the new cards' certificates, shipping, delivery, expiry. */
@ApiTags('card bureau')
@ApiBearerAuth()
@Roles('operator')
@Controller('v1/operator/reissuance')
export class CardBureauController {
  constructor(
    private readonly production: CardProductionService,
    private readonly orders: ReissuanceOrderService,
  ) {}

  @Post('production-batches')
  @HttpCode(201)
  @Idempotent()
  @ApiOperation({ summary: 'Export paid orders to the card bureau (printed name, validity date, address); they go into production' })
  @ProblemResponses(400, 401, 403, 409)
  exportBatch(@Req() request: IdempotentRequest) {
    return this.production.exportBatch(request.principal!, request.idempotency!);
  }

  @Post('orders/:orderId/card')
  @HttpCode(201)
  @Idempotent()
  @ApiOperation({ summary: "The bureau's CSRs of the new card: both certificates issued ON HOLD (certificateHold) until activation" })
  @ProblemResponses(400, 401, 403, 404, 409, 422, 503)
  issueCard(@Param('orderId') orderId: string, @Body() dto: BureauCardDto, @Req() request: IdempotentRequest) {
    return this.production.issueCard(orderId, { cardNumber: dto.cardNumber, csrs: dto.csrs }, request.principal!, request.idempotency!);
  }

  @Post('orders/:orderId/shipment')
  @HttpCode(200)
  @Idempotent()
  @ApiOperation({ summary: 'Record the mailing (tracking number)' })
  @ProblemResponses(400, 401, 403, 404, 409)
  ship(@Param('orderId') orderId: string, @Body() dto: ShipmentDto, @Req() request: IdempotentRequest) {
    return this.production.ship(orderId, dto.trackingNumber, request.principal!, request.idempotency!);
  }

  @Post('orders/:orderId/delivery')
  @HttpCode(200)
  @Idempotent()
  @ApiOperation({ summary: 'Record the delivery confirmed by the post' })
  @ProblemResponses(400, 401, 403, 404, 409)
  deliver(@Param('orderId') orderId: string, @Req() request: IdempotentRequest) {
    return this.production.deliver(orderId, request.principal!, request.idempotency!);
  }

  @Get('payments/flagged')
  @Roles('operator', 'auditor')
  @ApiOperation({ summary: 'Payments recorded but not applied (wrong amount, late, second payment, unknown order, failed): what an operator must refund or settle' })
  @ProblemResponses(401, 403)
  flagged(@Query('limit') limit?: string) {
    return this.orders.flaggedPayments(Math.min(Math.max(Number(limit) || 100, 1), 1000));
  }

  @Post('expiry')
  @HttpCode(200)
  @ApiOperation({ summary: 'Expire the orders whose payment deadline passed unpaid (each audited)' })
  @ProblemResponses(401, 403)
  expire() {
    return this.orders.expireOverdue();
  }
}

/** Form fields as strings (a repeated field keeps its first value). */
function stringFields(body: unknown): Record<string, string> {
  if (!body || typeof body !== 'object') return {};
  return Object.fromEntries(
    Object.entries(body as Record<string, unknown>).map(([name, value]) => [name, Array.isArray(value) ? String(value[0]) : String(value)]),
  );
}
