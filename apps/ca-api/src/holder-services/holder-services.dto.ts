import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsOptional, IsString, Matches, MaxLength, ValidateNested } from 'class-validator';
import { DelegationDto } from '../lifecycle/lifecycle.dto';
import { CardSignatureDto } from '../online/online.dto';

class WithDelegation {
  @ApiPropertyOptional({ type: DelegationDto, description: 'Absent when the holder is there in person' })
  @IsOptional()
  @ValidateNested()
  @Type(() => DelegationDto)
  delegation?: DelegationDto;
}

export class UserCodeResetDto extends WithDelegation {
  @ApiProperty({ description: 'The new user code (6-10 printable ASCII); stored only as a scrypt hash' })
  @IsString()
  @MaxLength(64)
  newUserCode!: string;
}

export class PublicationDto extends WithDelegation {
  @ApiProperty({ description: "Publish the holder's certificates in the public repository" })
  @IsBoolean()
  consent!: boolean;
}

export class ContactChangeDto extends WithDelegation {
  @ApiProperty({ enum: ['mobile', 'email'] })
  @IsIn(['mobile', 'email'])
  kind!: 'mobile' | 'email';

  @ApiProperty({ description: 'The new mobile number (09xxxxxxxx) or e-mail address; a code is sent there' })
  @IsString()
  @MaxLength(254)
  newValue!: string;
}

export class ContactConfirmationDto extends WithDelegation {
  @ApiProperty()
  @IsString()
  @MaxLength(64)
  verificationId!: string;

  @ApiProperty({ description: 'The 6-digit code received' })
  @Matches(/^\d{6}$/, { message: 'code must be 6 digits' })
  code!: string;
}

export class OnlineUserCodeResetDto {
  @ApiProperty({ type: CardSignatureDto })
  @ValidateNested()
  @Type(() => CardSignatureDto)
  cardSignature!: CardSignatureDto;

  @ApiProperty()
  @IsString()
  @MaxLength(64)
  newUserCode!: string;
}
