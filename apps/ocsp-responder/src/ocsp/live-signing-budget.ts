/**
 * How many OCSP responses one responder instance may sign live per second
 * (OCSP_LIVE_SIGNATURES_PER_SECOND): a token bucket holding one second of
 * signatures. Two tiers, so that a flood of optional work cannot starve the
 * necessary:
 *
 * - `needed`: a certificate of ours has no usable pre-signed answer (a
 *   status change just announced, a SHA-256 CertID): may use every token;
 * - `optional`: a nonce (RFC 8954: the responder may answer without it),
 *   several CertIDs in one request, a serial we never issued: only while
 *   more than a quarter of the bucket is left.
 *
 * Requests that find no token are answered from the pre-signed responses
 * (nonce not echoed) or with tryLater; they never queue behind signatures.
 */
export class LiveSigningBudget {
  private tokens: number;
  private last: number;
  private readonly reserve: number;

  constructor(
    private readonly perSecond: number,
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    this.tokens = perSecond;
    this.last = this.nowMs();
    this.reserve = Math.max(1, Math.floor(perSecond / 4));
  }

  /** Takes one token when the tier allows it. */
  take(tier: 'needed' | 'optional'): boolean {
    const now = this.nowMs();
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.last) * this.perSecond) / 1000);
    this.last = now;
    const floor = tier === 'needed' ? 1 : this.reserve + 1;
    if (this.tokens < floor) return false;
    this.tokens -= 1;
    return true;
  }
}
