import { afterEach, describe, expect, it, vi } from 'vitest';
import { ProcessAbort } from './process-abort.ts';

afterEach(() => vi.useRealTimers());

function guard(deadlineMs = 30_000) {
  const logged: string[] = [];
  const exits: number[] = [];
  const g = new ProcessAbort({
    log: (l) => void logged.push(l),
    exit: (c) => void exits.push(c),
    deadlineMs,
    watchParent: false,
    watchStdin: false,
  });
  return { g, logged, exits };
}

describe('ProcessAbort', () => {
  it('sends every trigger to the subscribers, and keeps acknowledging once they are gone', () => {
    vi.useFakeTimers();
    const { g, logged, exits } = guard();
    const seen: string[] = [];
    const off = g.subscribe((t) => void seen.push(t.name));
    g.trigger({ name: 'SIGTERM', detail: 'received SIGTERM' });
    g.trigger({ name: 'SIGINT', detail: 'received SIGINT' });
    expect(seen).toEqual(['SIGTERM', 'SIGINT']);
    off();
    g.trigger({ name: 'SIGINT', detail: 'received SIGINT' });
    expect(seen).toHaveLength(2);
    expect(logged.at(-1)).toMatch(
      /SIGINT received: already stopping .* at the latest 30 s after the first stop request/,
    );
    expect(exits).toEqual([]);
    expect(g.aborted?.name).toBe('SIGTERM');
  });

  it('ends the process with exit 4 at the hard deadline after the first abort, not before', () => {
    vi.useFakeTimers();
    const { g, logged, exits } = guard(30_000);
    g.subscribe(() => {});
    g.trigger({ name: 'SIGTERM', detail: 'received SIGTERM' });
    vi.advanceTimersByTime(20_000);
    g.trigger({ name: 'SIGTERM', detail: 'received SIGTERM' });
    vi.advanceTimersByTime(9_999);
    expect(exits).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(exits).toEqual([4]);
    expect(logged.at(-1)).toMatch(/did not finish within 30 s \(hard deadline\); exiting 4, the route may not be safe/);
  });

  it('keeps the process signal handlers installed after the last unsubscribe: a later SIGINT is not fatal', () => {
    const { g } = guard();
    const before = process.listenerCount('SIGINT');
    g.subscribe(() => {})();
    expect(process.listenerCount('SIGINT')).toBe(before + 1);
    expect(process.listenerCount('SIGTERM')).toBeGreaterThan(0);
    expect(process.listenerCount('SIGHUP')).toBeGreaterThan(0);
  });
});
