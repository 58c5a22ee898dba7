import { SessionPool } from './session-pool';

/** Fake sessions: numbers, with a log of opens and closes. */
function fakePool(size: number, failOpens = 0) {
  let next = 1;
  let failures = failOpens;
  const opened: number[] = [];
  const closed: number[] = [];
  const pool = new SessionPool<number>(
    () => {
      if (failures > 0) {
        failures--;
        throw new Error('CKR_DEVICE_ERROR');
      }
      opened.push(next);
      return next++;
    },
    (session) => closed.push(session),
    size,
  );
  return { pool, opened, closed };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('SessionPool', () => {
  it('never gives one session to two uses at once, and opens no more than its size', async () => {
    const { pool, opened } = fakePool(3);
    const busy = new Set<number>();
    let maxBusy = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () =>
        pool.use(async (session) => {
          expect(busy.has(session)).toBe(false);
          busy.add(session);
          maxBusy = Math.max(maxBusy, busy.size);
          await tick();
          busy.delete(session);
        }),
      ),
    );
    expect(maxBusy).toBe(3);
    expect(opened).toEqual([1, 2, 3]);
  });

  it('closes a session whose work failed and gives the next caller a fresh one', async () => {
    const { pool, opened, closed } = fakePool(1);
    const failing = pool.use(async () => {
      await tick();
      throw new Error('CKR_FUNCTION_FAILED');
    });
    const waiting = pool.use((session) => session);
    await expect(failing).rejects.toThrow('CKR_FUNCTION_FAILED');
    await expect(waiting).resolves.toBe(2);
    expect(closed).toEqual([1]);
    expect(opened).toEqual([1, 2]);
  });

  it('reports a session that cannot be opened, and recovers when the token answers again', async () => {
    const { pool } = fakePool(1, 1);
    await expect(pool.use((session) => session)).rejects.toThrow('CKR_DEVICE_ERROR');
    await expect(pool.use((session) => session)).resolves.toBe(1);
  });

  it('fails waiting and later uses once closed, and closes busy sessions when they finish', async () => {
    const { pool, closed } = fakePool(1);
    let finish: () => void = () => undefined;
    const busy = pool.use(() => new Promise<void>((resolve) => (finish = resolve)));
    await tick();
    const waiting = pool.use((session) => session);
    pool.closeAll();
    await expect(waiting).rejects.toThrow('the token is closed');
    await expect(pool.use((session) => session)).rejects.toThrow('the token is closed');
    finish();
    await busy;
    expect(closed).toEqual([1]);
  });
});
