import { describe, expect, it } from 'vitest';
import { sampleRunResult } from './fixtures/run-result.ts';
import { applyLoadHealthPolicy, assessLoadHealth } from './load-health.ts';
import { renderHtml } from './html.ts';
import { renderMarkdown } from './markdown.ts';

describe('assessLoadHealth', () => {
  it('finds the sample run healthy and says what it checked', () => {
    const health = assessLoadHealth(sampleRunResult('promoted'))!;
    expect(health.reliable).toBe(true);
    expect(health.checks.map((c) => c.name)).toEqual(['rate', 'client-vs-server']);
  });

  it('marks a saturated client unreliable: 2.3 s client p50 beside a 20 ms server p50', () => {
    const result = sampleRunResult('promoted');
    result.load = { ...result.load!, latencyMs: { p50: 2300, p90: 3500, p99: 4100, max: 5000 } };
    const health = assessLoadHealth(result)!;
    expect(health.reliable).toBe(false);
    expect(health.reason).toMatch(/^load unreliable: client p50 2\.30 s vs server p50 \d+(\.\d+)? ms, at most 120 ms$/);
  });

  it('checks dropped and late requests and host CPU when the driver measured them', () => {
    const result = sampleRunResult('promoted');
    result.load = {
      ...result.load!,
      dropped: 400,
      schedulerLagMs: { p99: 180, max: 400 },
      hostCpu: { busyShare: 0.99, cores: 2 },
    };
    const failed = assessLoadHealth(result)!.checks.filter((c) => !c.ok);
    expect(failed.map((c) => c.detail)).toEqual([
      '400 requests dropped (4.76 %), at most 1 %',
      'requests sent late by 180 ms (p99), at most 50 ms',
      'host CPU 99 % busy over 2 cores, at most 95 %',
    ]);
  });

  it('a failed load (a k6 exit code, a failed runner) is unreliable, so a verdict on it is inconclusive', () => {
    const result = sampleRunResult('promoted');
    result.load = {
      ...result.load!,
      status: 'failed',
      reason: 'runner pod canary-load-1-x: k6 exited 107 (script error)',
    };
    const health = assessLoadHealth(result)!;
    expect(health.reliable).toBe(false);
    expect(health.reason).toContain('the load failed: runner pod canary-load-1-x: k6 exited 107 (script error)');
    expect(applyLoadHealthPolicy(result).status).toBe('inconclusive');
  });

  it('does not hold the k6-operator to a client-side rate: its runners are in the cluster', () => {
    const result = sampleRunResult('promoted');
    result.load = {
      ...result.load!,
      driver: 'k6-operator',
      status: 'stopped',
      achievedRate: 0,
      requests: 0,
      latencyMs: { p50: null, p90: null, p99: null, max: null },
    };
    const health = assessLoadHealth(result)!;
    expect(health.checks.map((c) => c.name)).toEqual([]);
    expect(applyLoadHealthPolicy(result).status).toBe('promoted');
  });

  it('is null when no load ran: nothing was checked, so nothing is called healthy', () => {
    const result = sampleRunResult('aborted');
    result.load = null;
    expect(assessLoadHealth(result)).toBeNull();
  });
});

describe('applyLoadHealthPolicy', () => {
  it('makes a verdict on unreliable load inconclusive (exit 2), keeping what the judge said', () => {
    const result = sampleRunResult('promoted');
    result.load = { ...result.load!, achievedRate: 150 };
    const out = applyLoadHealthPolicy(result);
    expect(out).toMatchObject({ status: 'inconclusive', exitCode: 2 });
    expect(out.reason).toBe(
      'load unreliable: achieved 150 req/s of 200 req/s (75 %), at least 90 %; the judge promoted (all stages passed), but on distorted traffic',
    );
  });

  it('with warn, keeps the verdict on unreliable load while the reports still warn', () => {
    const result = sampleRunResult('promoted');
    result.load = { ...result.load!, achievedRate: 150 };
    const out = applyLoadHealthPolicy(result, 'warn');
    expect(out).toMatchObject({ status: 'promoted', exitCode: 0 });
    expect(renderMarkdown(out)).toContain('**⚠ Unreliable load: the verdict may rest on distorted traffic');
  });

  it('leaves healthy runs and runs without a verdict alone', () => {
    const healthy = sampleRunResult('rolled-back');
    expect(applyLoadHealthPolicy(healthy)).toBe(healthy);
    const aborted = sampleRunResult('aborted');
    aborted.load = { ...aborted.load!, achievedRate: 1 };
    expect(applyLoadHealthPolicy(aborted)).toBe(aborted);
  });

  it('shows the warning in the Markdown and HTML reports', () => {
    const result = applyLoadHealthPolicy({
      ...sampleRunResult('promoted'),
      load: { ...sampleRunResult('promoted').load!, achievedRate: 150 },
    });
    expect(renderMarkdown(result)).toContain('**⚠ Unreliable load: the verdict may rest on distorted traffic');
    expect(renderHtml(result)).toContain('<div class="unreliable" id="load-health"><strong>Unreliable load:</strong>');
  });
});
