import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';

/** V8 finishes a constructor's in-object slack tracking after this many `new` calls (kSlackTrackingCounterStart, 7), plus margin. */
const CONSTRUCTIONS = 8;

/**
 * Builds a few node:http request and response objects, one after another,
 * so that V8 sizes their in-object fields while the heap is quiet. Call once
 * at process start, before anything that allocates heavily (the OCSP
 * responder's cache warm-up) and before the first real request.
 *
 * Why: V8 decides how many fields a constructor's objects keep inside the
 * object ("in-object slack tracking") on the 7th `new`, from the shapes that
 * the earlier objects reached. A full garbage collection clears the shapes of
 * objects that have died. When the first requests come one at a time with
 * full collections between them, the 7th `new IncomingMessage` finds no
 * shape left and keeps zero fields inside the object. Every later request
 * object then has its ~30 fields out of line, and a keyed store beyond the
 * 12th such field turns it into a slow dictionary-mode object.
 *
 * The OCSP responder ran into this: a health probe or /metrics poll once per
 * second during the cache warm-up is exactly that pattern. After it, each
 * request spent ~15-20 µs building dictionaries (docs/benchmarks.md, OCSP,
 * session 5). The test in http-message-shapes.spec.ts reproduces it.
 */
export function settleHttpMessageShapes(): void {
  for (let i = 0; i < CONSTRUCTIONS; i++) {
    const socket = new Socket();
    const request = new IncomingMessage(socket);
    new ServerResponse(request);
    socket.destroy();
  }
}
