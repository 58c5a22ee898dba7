import { HttpStatus, Injectable } from '@nestjs/common';
import { Clock, ProblemException } from '@moica/platform';

/** Attempts per client address per window on the user-code routes (issue 5: a per-client rate limit as well). */
export const CLIENT_ATTEMPTS_PER_WINDOW = 30;
export const CLIENT_WINDOW_SECONDS = 60;

/** A refusal by the per-client limit; `firstInWindow` is true for the first refusal of the client's window only. */
export class ClientRateLimited extends ProblemException {
  constructor(
    retryAfterSeconds: number,
    readonly firstInWindow: boolean,
  ) {
    super('rate-limited', HttpStatus.TOO_MANY_REQUESTS, 'Too many requests', `retry in ${retryAfterSeconds} s`, { retryAfterSeconds });
  }
}

/**
 * A fixed-window limit per client address for the online user-code routes,
 * on top of the per-holder lock-out. In this process's memory: behind a
 * load balancer each instance limits on its own (documented).
 */
@Injectable()
export class ClientRateLimiter {
  private readonly windows = new Map<string, { startedAt: number; count: number }>();

  constructor(private readonly clock: Clock) {}

  take(client: string): void {
    const now = this.clock.now().getTime();
    const window = this.windows.get(client);
    if (!window || now - window.startedAt >= CLIENT_WINDOW_SECONDS * 1000) {
      if (this.windows.size > 100_000) this.windows.clear();
      this.windows.set(client, { startedAt: now, count: 1 });
      return;
    }
    window.count++;
    if (window.count > CLIENT_ATTEMPTS_PER_WINDOW) {
      const retry = Math.ceil((window.startedAt + CLIENT_WINDOW_SECONDS * 1000 - now) / 1000);
      throw new ClientRateLimited(retry, window.count === CLIENT_ATTEMPTS_PER_WINDOW + 1);
    }
  }
}
