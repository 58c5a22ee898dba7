/**
 * The medians of one `bench/ocsp/run.sh` run: reads its JSON lines (one per
 * server and round) and prints, per server, the median req/s, p99 and CPU
 * time per request, and the ratios that the goals of issue 6 are stated in,
 * taken round by round (ours / static bound, ours / cfssl: each pair measured
 * back to back, so a slow minute of the shared machine moves both) and then
 * their median. Also how many rounds of ours had a p99 under 10 ms.
 *
 *   node dist/bench/ocsp/summarize.js <run.jsonl>
 */
import { readFileSync } from 'node:fs';

interface Line {
  certificates: number;
  server: string;
  round: number;
  result: { rps: number; p99_ms: number; cpu_us_per_request?: number };
}

const P99_GOAL_MS = 10;

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function summarize(lines: readonly Line[]): Record<string, unknown> {
  const byServer = new Map<string, Map<number, Line['result']>>();
  for (const line of lines) {
    if (!byServer.has(line.server)) byServer.set(line.server, new Map());
    byServer.get(line.server)!.set(line.round, line.result);
  }
  const servers: Record<string, unknown> = {};
  for (const [server, rounds] of byServer) {
    const results = [...rounds.values()];
    const cpu = results.map((result) => result.cpu_us_per_request).filter((value): value is number => value !== undefined);
    servers[server] = {
      rounds: results.length,
      rps: round1(median(results.map((result) => result.rps))),
      p99_ms: round1(median(results.map((result) => result.p99_ms))),
      ...(cpu.length > 0 ? { cpu_us_per_request: round1(median(cpu)) } : {}),
    };
  }
  const ours = byServer.get('ours');
  const ratio = (peer: string) => {
    const other = byServer.get(peer);
    if (!ours || !other) return undefined;
    const perRound = [...ours].filter(([round]) => other.has(round)).map(([round, result]) => result.rps / other.get(round)!.rps);
    return { perRound: perRound.map(round2), median: round2(median(perRound)) };
  };
  return {
    certificates: lines[0]?.certificates,
    servers,
    oursOverStatic: ratio('static'),
    oursOverCfssl: ratio('cfssl'),
    oursRoundsWithP99Under10ms: ours ? `${[...ours.values()].filter((result) => result.p99_ms < P99_GOAL_MS).length} of ${ours.size}` : undefined,
  };
}

const round1 = (value: number) => Math.round(value * 10) / 10;
const round2 = (value: number) => Math.round(value * 100) / 100;

if (require.main === module) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node dist/bench/ocsp/summarize.js <run.jsonl>');
    process.exit(2);
  }
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((text) => text.trim().length > 0)
    .map((text) => JSON.parse(text) as Line);
  console.log(JSON.stringify(summarize(lines)));
}
