/** What the monitor needs of a pg Pool. */
export interface LsnSource {
  query(sql: string): Promise<{ rows: Array<{ lsn: string | null }> }>;
}

/** A PostgreSQL LSN ('16/B374D848') as a number of bytes. */
export function parseLsn(text: string): bigint {
  const [high, low] = text.split('/');
  return (BigInt(`0x${high}`) << 32n) + BigInt(`0x${low}`);
}

/**
 * How far behind the primary the read replica is, in time (issue 11,
 * docs/operations.md): every `intervalMs` the primary's write position
 * (pg_current_wal_lsn) is noted with the time, and the replica's replay
 * position (pg_last_wal_replay_lsn) is compared with those notes. The lag is
 * the age of the oldest noted position the replica has not replayed yet (0
 * when it has replayed them all), so an idle primary does not look lagging
 * the way `now() - pg_last_xact_replay_timestamp()` does.
 *
 * A status-change notice is received after its commit; everything written
 * before a noted position has been replayed once that position has, so a
 * notice may give way to the replica's rows `lag + intervalMs` after it
 * arrived (OcspResponder's `noticeExtensionMs`).
 */
export class ReplicaLagMonitor {
  private readonly notes: Array<{ lsn: bigint; at: number }> = [];
  private lag: number | undefined;
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly primary: LsnSource,
    private readonly replica: LsnSource,
    readonly intervalMs = 1000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Milliseconds the replica is behind; undefined while either server cannot be asked. */
  get lagMs(): number | undefined {
    return this.lag;
  }

  start(): void {
    const tick = async () => {
      if (this.running) return;
      this.running = true;
      try {
        await this.sample();
      } finally {
        this.running = false;
      }
    };
    void tick();
    this.timer = setInterval(() => void tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One round: note the primary's position, then compare the replica's. Never throws. */
  async sample(): Promise<void> {
    try {
      const written = (await this.primary.query(`SELECT pg_current_wal_lsn()::text AS lsn`)).rows[0]?.lsn;
      if (written) this.notes.push({ lsn: parseLsn(written), at: this.now() });
    } catch {
      // primary unreachable: no new note; the replica's progress on the old ones still counts
    }
    try {
      const replayed = (await this.replica.query(`SELECT pg_last_wal_replay_lsn()::text AS lsn`)).rows[0]?.lsn;
      // NULL: not a standby (DATABASE_READ_URL is a primary): never behind.
      const position = replayed ? parseLsn(replayed) : undefined;
      while (this.notes.length > 0 && (position === undefined || this.notes[0].lsn <= position)) this.notes.shift();
      this.lag = this.notes.length === 0 ? 0 : this.now() - this.notes[0].at;
      // A replica stuck for hours must not grow the notes without bound: keep the oldest and the newest 3600.
      if (this.notes.length > 3601) this.notes.splice(1, this.notes.length - 3601);
    } catch {
      this.lag = undefined;
    }
  }
}
