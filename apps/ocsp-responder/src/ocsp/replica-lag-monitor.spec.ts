import { parseLsn, ReplicaLagMonitor, type LsnSource } from './replica-lag-monitor';

/** A server whose answer the test sets; `null` answers like a primary asked for its replay position. */
function server(initial: string | null): LsnSource & { lsn: string | null; down: boolean } {
  const state = {
    lsn: initial,
    down: false,
    async query() {
      if (state.down) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      return { rows: [{ lsn: state.lsn }] };
    },
  };
  return state;
}

describe('parseLsn', () => {
  it.each([
    ['0/0', 0n],
    ['0/16B3748', 0x16b3748n],
    ['16/B374D848', (0x16n << 32n) + 0xb374d848n],
  ])('%s -> %s', (text, value) => expect(parseLsn(text)).toBe(value));
});

describe('ReplicaLagMonitor', () => {
  it('measures the age of the oldest primary position the replica has not replayed, 0 when caught up', async () => {
    let now = 0;
    const primary = server('0/100');
    const replica = server('0/100');
    const monitor = new ReplicaLagMonitor(primary, replica, 1000, () => now);
    await monitor.sample();
    expect(monitor.lagMs).toBe(0);

    // The primary writes; the replica stops replaying (a long query, a slow disk, a network cut).
    primary.lsn = '0/200';
    now = 1000;
    await monitor.sample();
    expect(monitor.lagMs).toBe(0);
    expect(monitor.lagMs).toBeDefined();
    primary.lsn = '0/300';
    now = 2000;
    await monitor.sample(); // noted 0/300 at 2000; 0/200 at 1000 is the oldest not replayed
    expect(monitor.lagMs).toBe(1000);
    now = 9000;
    await monitor.sample();
    expect(monitor.lagMs).toBe(8000);

    // It replays up to 0/200: the oldest missing position is now the one noted at 2000.
    replica.lsn = '0/200';
    await monitor.sample();
    expect(monitor.lagMs).toBe(7000);
    replica.lsn = '0/300';
    await monitor.sample();
    expect(monitor.lagMs).toBe(0);
  });

  it('an idle primary is not lag (unlike now() - pg_last_xact_replay_timestamp())', async () => {
    let now = 0;
    const monitor = new ReplicaLagMonitor(server('0/500'), server('0/500'), 1000, () => now);
    for (now = 0; now <= 600_000; now += 60_000) await monitor.sample();
    expect(monitor.lagMs).toBe(0);
  });

  it('is unknown while the replica cannot be asked, and counts the outage once it answers again', async () => {
    let now = 0;
    const primary = server('0/100');
    const replica = server('0/100');
    const monitor = new ReplicaLagMonitor(primary, replica, 1000, () => now);
    await monitor.sample();
    replica.down = true;
    primary.lsn = '0/180';
    now = 1000;
    await monitor.sample();
    expect(monitor.lagMs).toBeUndefined();
    replica.down = false;
    now = 5000;
    await monitor.sample();
    expect(monitor.lagMs).toBe(4000);
  });

  it('is never behind when the read URL is not a standby (pg_last_wal_replay_lsn() is NULL)', async () => {
    const monitor = new ReplicaLagMonitor(server('0/900'), server(null), 1000, () => 0);
    await monitor.sample();
    expect(monitor.lagMs).toBe(0);
  });
});
