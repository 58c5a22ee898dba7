import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsString, Matches, MaxLength, MinLength, ValidateNested } from 'class-validator';
import { CardRequestsDto } from '../registration/application.dto';
import { CardSignatureDto } from '../online/online.dto';

export class ReissuanceOrderRequestDto {
  @ApiProperty({ type: CardSignatureDto, description: 'The old card signs a challenge with purpose online-reissuance' })
  @ValidateNested()
  @Type(() => CardSignatureDto)
  cardSignature!: CardSignatureDto;

  @ApiProperty({ example: '10617', description: 'Taiwan postal code (3, 5 or 6 digits): domestic mail only' })
  @IsString()
  @MaxLength(10)
  postalCode!: string;

  @ApiProperty({ example: '臺北市大安區羅斯福路四段1號', description: 'Mailing address in Taiwan' })
  @IsString()
  @MinLength(5)
  @MaxLength(200)
  @Matches(/^[^\x00-\x1f\x7f]+$/, { message: 'address must not contain control characters' })
  address!: string;
}

export class PaymentStartDto {
  @ApiProperty({ enum: ['atm', 'credit_card'] })
  @IsIn(['atm', 'credit_card'])
  method!: 'atm' | 'credit_card';
}

export class OrderCancellationDto {
  @ApiProperty({ type: CardSignatureDto, description: 'The old card signs a challenge with purpose online-reissuance' })
  @ValidateNested()
  @Type(() => CardSignatureDto)
  cardSignature!: CardSignatureDto;
}

export class ActivationDto {
  @ApiProperty({ type: CardSignatureDto, description: 'The NEW card signs a challenge with purpose activation' })
  @ValidateNested()
  @Type(() => CardSignatureDto)
  cardSignature!: CardSignatureDto;

  @ApiProperty({ example: 'A123456789' })
  @Matches(/^[A-Za-z][0-9]{9}$/)
  nationalId!: string;

  @ApiProperty({ description: 'The user code (用戶代碼)' })
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  userCode!: string;
}

export class BureauCardDto {
  @ApiProperty({ example: 'TP0300000000099', description: 'Number of the personalised card' })
  @Matches(/^[A-Z0-9]{8,20}$/)
  cardNumber!: string;

  @ApiProperty({ type: CardRequestsDto, description: 'PKCS#10 requests made by the new card (keys generated on it)' })
  @ValidateNested()
  @Type(() => CardRequestsDto)
  csrs!: CardRequestsDto;
}

export class ShipmentDto {
  @ApiProperty({ example: 'RR123456789TW', description: 'Chunghwa Post tracking number' })
  @Matches(/^[A-Z0-9]{6,30}$/)
  trackingNumber!: string;
}

export class DeliveryEstimateDto {
  @ApiProperty() earliest!: string;
  @ApiProperty() latest!: string;
  @ApiProperty({ enum: ['main-island', 'outlying-island'] }) region!: string;
}

export class CheckoutFormDto {
  @ApiProperty({ description: "The payment gateway's hosted page: the browser POSTs `fields` to `action` as a form" }) action!: string;
  @ApiProperty({ enum: ['POST'] }) method!: 'POST';
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) fields!: Record<string, string>;
}

export class ReissuanceOrderDto {
  @ApiProperty() orderId!: string;
  @ApiProperty({ description: 'Number at the payment gateway (MerchantTradeNo)' }) orderNumber!: string;
  @ApiProperty({ enum: ['created', 'awaiting_payment', 'paid', 'in_production', 'shipped', 'delivered', 'activated', 'expired', 'cancelled'] }) state!: string;
  @ApiProperty() amountNtd!: number;
  @ApiPropertyOptional({ enum: ['atm', 'credit_card'] }) paymentMethod!: string | null;
  @ApiPropertyOptional() paymentDeadline!: string | null;
  @ApiPropertyOptional({ description: 'ATM transfer: bank code of the virtual account' }) bankCode!: string | null;
  @ApiPropertyOptional({ description: 'ATM transfer: the virtual account number unique to this order' }) virtualAccount!: string | null;
  @ApiPropertyOptional() paidAt!: string | null;
  @ApiPropertyOptional({ type: DeliveryEstimateDto }) deliveryEstimate!: DeliveryEstimateDto | null;
  @ApiPropertyOptional() trackingNumber!: string | null;
  @ApiPropertyOptional({ description: 'Validity date printed on the new card' }) cardValidUntil!: string | null;
  @ApiProperty({ enum: ['refundable', 'no-refund'], description: 'Once in production the personalised card cannot be refunded' }) refund!: string;
  @ApiProperty() refundDue!: boolean;
  @ApiProperty() refundPolicy!: string;
}
