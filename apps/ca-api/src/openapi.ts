import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

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
  return SwaggerModule.createDocument(app, config);
}

/** Serves the document at /openapi.json and Swagger UI at /docs. */
export function serveOpenApi(app: INestApplication): OpenAPIObject {
  const document = buildOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json', raw: ['json'] });
  return document;
}
