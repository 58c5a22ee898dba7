import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, Matches } from 'class-validator';
import { OnlineUserCodeDto } from '../lifecycle/lifecycle.dto';

/** The card tool's unlock request: the holder's online proof (as for suspension) and the card's challenge. */
export class CardUnlockRequestDto extends OnlineUserCodeDto {
  @ApiProperty({ description: "The card's unblock challenge: 16 random bytes made by the card, hex (32 characters)", example: '8f1c2d3e4f5061728394a5b6c7d8e9f0' })
  @Matches(/^[0-9a-fA-F]{32}$/, { message: 'challenge must be 16 bytes in hex (32 characters)' })
  challenge!: string;
}

export class CardUnlockResponseDto {
  @ApiProperty() cardNumber!: string;
  @ApiProperty({ description: 'The master key version the card was personalised with' }) keyVersion!: number;
  @ApiProperty({ description: 'The unblock protocol (docs/card-unlock.md)', example: 'MOICA-UNBLOCK-1' }) protocol!: string;
  @ApiProperty({ description: 'AES-CMAC under the card unblock key, hex (32 characters): give it to the card with the new PIN' }) response!: string;
}

export class BureauExportRequestDto {
  @ApiProperty({ type: [String], description: 'Card numbers to personalise (1 to 1000)', example: ['TP0300000000001'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @Matches(/^[A-Z0-9]{8,20}$/, { each: true, message: 'each card number is 8 to 20 upper-case letters or digits' })
  cardNumbers!: string[];
}

export class BureauExportCardDto {
  @ApiProperty() cardNumber!: string;
  @ApiProperty() keyVersion!: number;
  @ApiProperty({ description: 'The card unblock key (AES-256) wrapped under the transport key, RFC 3394, base64 (40 bytes)' }) wrappedKey!: string;
}

export class BureauExportResponseDto {
  @ApiProperty({ example: 'RFC 3394 AES Key Wrap (default IV)' }) wrapping!: string;
  @ApiProperty({ description: 'Label of the transport key (not secret)' }) transportKey!: string;
  @ApiProperty({ type: [BureauExportCardDto] }) cards!: BureauExportCardDto[];
}

export class CardUnlockFailuresDto {
  @ApiProperty() cardNumber!: string;
  @ApiProperty() failures!: number;
  @ApiProperty() firstAt!: Date;
  @ApiProperty() lastAt!: Date;
  @ApiProperty({ type: [String], description: 'Problem codes of the refusals' }) reasons!: string[];
  @ApiProperty({ nullable: true, description: 'When the user-code lock-out of the card ends, if it is on' }) userCodeLockedUntil!: Date | null;
}
