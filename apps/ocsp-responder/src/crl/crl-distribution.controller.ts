import { Controller, Get, HttpStatus, Inject, Param, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Clock, ProblemException } from '@moica/platform';
import { parseCrlFileName } from '../../../../db/crl-partition';
import { CrlStore } from './crl-store';

/**
 * The CRL distribution points (RFC 5280 §4.2.1.13, §5): every current CRL
 * at the URL certificates carry, `/crl/{ca}/{partition}.crl`,
 * `/crl/{ca}/{partition}-delta.crl`, `/crl/{ca}/complete.crl` and
 * `/crl/{ca}/complete-delta.crl` (db/crl-partition.ts). DER, Content-Type
 * application/pkix-crl (RFC 2585 §4.2); ETag (SHA-256 of the DER),
 * Last-Modified (thisUpdate) and Cache-Control/Expires until nextUpdate, with
 * 304 answers to conditional requests. HEAD is served too (Fastify).
 */
@Controller('crl')
export class CrlDistributionController {
  constructor(
    private readonly store: CrlStore,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  @Get(':ca/:file')
  async download(
    @Param('ca') ca: string,
    @Param('file') file: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const scope = parseCrlFileName(ca, file);
    if (!scope) throw notFound(`${file} is not a CRL of this repository`);
    const crl = await this.store.current(scope);
    if (!crl) throw notFound(`no CRL published for /crl/${ca}/${file}`);

    const etag = `"${crl.sha256}"`;
    const maxAge = Math.max(0, Math.floor((crl.nextUpdate.getTime() - this.clock.now().getTime()) / 1000));
    void reply
      .header('etag', etag)
      .header('last-modified', crl.thisUpdate.toUTCString())
      .header('expires', crl.nextUpdate.toUTCString())
      .header('cache-control', `public, max-age=${maxAge}, no-transform`)
      .header('x-crl-number', crl.crlNumber);
    if (notModified(request, etag, crl.thisUpdate)) {
      void reply.status(HttpStatus.NOT_MODIFIED).send();
      return;
    }
    const der = await this.store.der(crl);
    void reply.status(HttpStatus.OK).header('content-type', 'application/pkix-crl').send(der);
  }
}

/** RFC 9110 §13.1.2 (If-None-Match wins) and §13.1.3 (If-Modified-Since, second precision). */
function notModified(request: FastifyRequest, etag: string, lastModified: Date): boolean {
  const ifNoneMatch = request.headers['if-none-match'];
  if (typeof ifNoneMatch === 'string') {
    return ifNoneMatch
      .split(',')
      .map((tag) => tag.trim().replace(/^W\//, ''))
      .some((tag) => tag === etag || tag === '*');
  }
  const ifModifiedSince = request.headers['if-modified-since'];
  if (typeof ifModifiedSince === 'string') {
    const since = Date.parse(ifModifiedSince);
    return !Number.isNaN(since) && Math.floor(lastModified.getTime() / 1000) <= Math.floor(since / 1000);
  }
  return false;
}

function notFound(detail: string): ProblemException {
  return new ProblemException('crl-not-found', HttpStatus.NOT_FOUND, 'CRL not found', detail);
}
