/**
 * The responder's Prometheus metrics (GET /metrics, text exposition format
 * 0.0.4), kept in plain counters: the hot path pays an array increment, not
 * a label lookup.
 */
export const OCSP_RESULTS = [
  'good',
  'revoked',
  'unknown',
  'malformedRequest',
  'unauthorized',
  'tryLater',
  'internalError',
  'httpError',
] as const;
export type OcspResult = (typeof OCSP_RESULTS)[number];

/** Latency buckets in seconds. */
const BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

export class OcspMetrics {
  private readonly requests = new Float64Array(2 * OCSP_RESULTS.length);
  private readonly resultIndex = new Map<string, number>(OCSP_RESULTS.map((result, i) => [result, i]));
  private readonly bucketCounts = new Float64Array(BUCKETS.length + 1);
  private latencySum = 0;
  private latencyCount = 0;
  cacheHits = 0;
  cacheMisses = 0;
  databaseLookups = 0;
  databaseErrors = 0;
  liveSignatures = 0;
  liveSignaturesRefused = 0;
  notifications = 0;

  constructor(private readonly gauges: () => Record<string, number> = () => ({})) {}

  /** One answered request: its method, its result and its handling time. */
  observe(method: 'GET' | 'POST', result: OcspResult, seconds: number): void {
    this.requests[(method === 'GET' ? OCSP_RESULTS.length : 0) + (this.resultIndex.get(result) ?? 0)]++;
    let i = 0;
    while (i < BUCKETS.length && seconds > BUCKETS[i]) i++;
    this.bucketCounts[i]++;
    this.latencySum += seconds;
    this.latencyCount++;
  }

  /** The exposition text. */
  render(): string {
    const lines: string[] = [];
    lines.push('# HELP ocsp_requests_total OCSP requests answered, by HTTP method and result.');
    lines.push('# TYPE ocsp_requests_total counter');
    this.requests.forEach((value, i) => {
      if (value === 0) return;
      const method = i < OCSP_RESULTS.length ? 'POST' : 'GET';
      lines.push(`ocsp_requests_total{method="${method}",result="${OCSP_RESULTS[i % OCSP_RESULTS.length]}"} ${value}`);
    });
    lines.push('# HELP ocsp_request_duration_seconds Time from the request body to the response, in the handler.');
    lines.push('# TYPE ocsp_request_duration_seconds histogram');
    let cumulative = 0;
    BUCKETS.forEach((bound, i) => {
      cumulative += this.bucketCounts[i];
      lines.push(`ocsp_request_duration_seconds_bucket{le="${bound}"} ${cumulative}`);
    });
    cumulative += this.bucketCounts[BUCKETS.length];
    lines.push(`ocsp_request_duration_seconds_bucket{le="+Inf"} ${cumulative}`);
    lines.push(`ocsp_request_duration_seconds_sum ${this.latencySum}`);
    lines.push(`ocsp_request_duration_seconds_count ${this.latencyCount}`);
    const counter = (name: string, help: string, value: number) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name} ${value}`);
    };
    counter('ocsp_cache_hits_total', 'CertIDs answered from the in-memory cache.', this.cacheHits);
    counter('ocsp_cache_misses_total', 'CertIDs not found fresh in the in-memory cache.', this.cacheMisses);
    counter('ocsp_database_lookups_total', 'Look-ups of a certificate and its stored response in PostgreSQL.', this.databaseLookups);
    counter('ocsp_database_errors_total', 'Failed PostgreSQL look-ups (answered from cache or tryLater).', this.databaseErrors);
    counter('ocsp_live_signatures_total', 'Responses signed on demand (nonce, unknown, SHA-256, status change).', this.liveSignatures);
    counter('ocsp_live_signatures_refused_total', 'Live signatures refused by the rate limit.', this.liveSignaturesRefused);
    counter('ocsp_status_notifications_total', 'Status-change notifications received (LISTEN certificate_status).', this.notifications);
    for (const [name, value] of Object.entries(this.gauges())) {
      lines.push(`# TYPE ${name} gauge`, `${name} ${value}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
