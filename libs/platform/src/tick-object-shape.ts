import { createHook } from 'node:async_hooks';

/** The tick object kept alive for the life of the process, once taken. */
let kept: object | undefined;

/**
 * Keeps one `process.nextTick` queue entry (a "TickObject") alive for the
 * life of the process, so that V8 never frees the shapes of those entries.
 * Call once at process start. Later calls do nothing.
 *
 * Why: `process.nextTick` builds each entry as an object literal with three
 * symbol keys (`{ [async_id_symbol]: ..., [trigger_async_id_symbol]: ...,
 * [async_context_frame]: ..., callback, args }`). V8 remembers, per key,
 * the shape the object had before that key was added, and holds those shapes
 * weakly. A full garbage collection at a moment when no tick is queued frees
 * them. The next tick builds new shapes, V8 sees a shape it did not remember,
 * and marks those keys megamorphic for good. From then on, every
 * `process.nextTick` adds its three keys through the V8 runtime, with a shape
 * migration, instead of in optimized code.
 *
 * An HTTP request through Fastify queues about eight ticks. In the OCSP
 * responder this cost ~30% more instructions per answer (143,000 against
 * 110,000), in nine of ten starts (docs/benchmarks.md, OCSP, session 8). A
 * collection while idle is likely in any long-running process: at start-up
 * (module loading, cache warm-up) or between quiet periods.
 *
 * A live tick object keeps its shape, and that shape keeps the shapes it was
 * built from, so what V8 remembers stays valid. The tick object is taken
 * from an async_hooks init hook, the only place Node hands it out; the hook
 * is enabled for this one `process.nextTick` call and then disabled.
 * tick-object-shape.spec.ts reproduces the problem in a child process.
 */
export function keepTickObjectShapeAlive(): void {
  if (kept) return;
  const hook = createHook({
    init(_asyncId, type, _triggerAsyncId, resource) {
      if (type === 'TickObject' && !kept) kept = resource;
    },
  });
  hook.enable();
  try {
    process.nextTick(() => undefined);
  } finally {
    hook.disable();
  }
}
