import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/roles.decorator';
import { Idempotent, IdempotentRequest } from '../idempotency/idempotency.interceptor';
import { ProblemResponses } from '../common/problem-responses';
import { ApplicationDto, ApplicationResultDto } from './application.dto';
import { ApplicationService } from './application.service';

@ApiTags('registration')
@ApiBearerAuth()
@Controller('v1/applications')
export class ApplicationController {
  constructor(private readonly applications: ApplicationService) {}

  @Post()
  @HttpCode(201)
  @Roles('clerk', 'supervisor')
  @Idempotent()
  @ApiOperation({
    summary: 'New application and issuance at the counter (in person only)',
    description:
      'The policy checks eligibility (national ID, age 18+, household registration, guardianship, contact data, user code, fee); ' +
      'both card requests must prove possession and pass the key-quality checks; both certificates are issued and returned with the chain. ' +
      "A holder's previous card is superseded.",
  })
  @ApiCreatedResponse({ type: ApplicationResultDto })
  @ProblemResponses(400, 401, 403, 409, 422, 503)
  apply(@Body() dto: ApplicationDto, @Req() request: IdempotentRequest): Promise<ApplicationResultDto> {
    return this.applications.apply(dto, request.principal!, request.idempotency!);
  }
}
