/**
 * A fixed number of PKCS#11 sessions shared by concurrent signatures. One
 * session carries one cryptographic operation at a time (PKCS#11 v2.40
 * §5.2), so each use has a session to itself; callers beyond the pool size
 * wait in order. A session whose work failed is closed and replaced, so an
 * operation left half-finished by an HSM error never reaches the next caller.
 */
export class SessionPool<Session> {
  private readonly idle: Session[] = [];
  private readonly waiters: ((result: Session | Error) => void)[] = [];
  /** Sessions not yet opened (or closed after a failure), up to the pool size. */
  private missing: number;
  private closed = false;

  constructor(
    private readonly openSession: () => Session,
    private readonly closeSession: (session: Session) => void,
    readonly size: number,
  ) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`a session pool needs at least one session, not ${size}`);
    this.missing = size;
  }

  /** Runs `work` with a session of its own. Errors from `work` or from opening a session propagate. */
  async use<T>(work: (session: Session) => Promise<T> | T): Promise<T> {
    const session = await this.acquire();
    let healthy = false;
    try {
      const result = await work(session);
      healthy = true;
      return result;
    } finally {
      this.release(session, healthy);
    }
  }

  /** Closes idle sessions now and busy ones when their work ends; waiting and later uses fail. */
  closeAll(): void {
    this.closed = true;
    for (const session of this.idle.splice(0)) quietly(() => this.closeSession(session));
    for (const waiter of this.waiters.splice(0)) waiter(new Error('the token is closed'));
  }

  private async acquire(): Promise<Session> {
    if (this.closed) throw new Error('the token is closed');
    const idle = this.idle.pop();
    if (idle !== undefined) return idle;
    if (this.missing > 0) return this.openReplacement();
    const result = await new Promise<Session | Error>((resolve) => this.waiters.push(resolve));
    if (result instanceof Error) throw result;
    return result;
  }

  private openReplacement(): Session {
    this.missing--;
    try {
      return this.openSession();
    } catch (error) {
      this.missing++;
      throw error;
    }
  }

  private release(session: Session, healthy: boolean): void {
    if (this.closed || !healthy) {
      quietly(() => this.closeSession(session));
      this.missing++;
      if (this.closed) return;
      const waiter = this.waiters.shift();
      if (!waiter) return;
      try {
        waiter(this.openReplacement());
      } catch (error) {
        waiter(error instanceof Error ? error : new Error(String(error)));
      }
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) waiter(session);
    else this.idle.push(session);
  }
}

function quietly(action: () => void): void {
  try {
    action();
  } catch {
    // Closing a session the token already dropped is not worth reporting.
  }
}
