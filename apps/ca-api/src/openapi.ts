import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { problemResponse } from './common/problem-responses';

/** The OpenAPI description of ca-api, built from the controllers' decorators so it stays true to the code. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('MOICA-model CA: registration API')
    .setDescription(
      'REST API of the certificate authority for national citizen smart-card certificates: registration offices, ' +
        'holders online, operators. Errors are application/problem+json (RFC 9457) with a stable `type` per reason code.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'API token of a clerk, supervisor, operator or auditor' })
    .build();
  const document = SwaggerModule.createDocument(app, config);
  document.components = document.components ?? {};
  document.components.schemas = {
    ...document.components.schemas,
    // RFC 9457; `type` is urn:moica-ca:problem:<reason code>, stable per reason (docs/lifecycle.md lists them).
    ProblemDetails: {
      type: 'object',
      required: ['type', 'title', 'status'],
      properties: {
        type: { type: 'string', example: 'urn:moica-ca:problem:under-age' },
        title: { type: 'string' },
        status: { type: 'integer', example: 422 },
        detail: { type: 'string' },
        instance: { type: 'string', description: 'urn:request:<request id>, as in the X-Request-Id header and the logs' },
        errors: {
          type: 'array',
          description: 'every refusal, when several apply',
          items: { type: 'object', properties: { type: { type: 'string' }, detail: { type: 'string' } } },
        },
      },
    },
  };
  // Every route that takes an Idempotency-Key can answer 409 (idempotency-request-in-progress,
  // idempotency-claim-lost), whether or not it lists 409 itself.
  for (const item of Object.values(document.paths)) {
    for (const operation of [item.post, item.put, item.patch, item.delete]) {
      if (operation?.parameters?.some((parameter) => 'name' in parameter && parameter.name === 'Idempotency-Key')) {
        operation.responses['409'] ??= problemResponse(409);
      }
    }
  }
  return document;
}

/** Serves the document at /openapi.json and Swagger UI at /docs. */
export function serveOpenApi(app: INestApplication): OpenAPIObject {
  const document = buildOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json', raw: ['json'] });
  return document;
}
