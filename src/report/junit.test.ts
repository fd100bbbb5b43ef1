import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { sampleRunResult } from './fixtures/run-result.ts';
import { renderJunit } from './junit.ts';

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  isArray: (name) => ['testsuite', 'testcase'].includes(name),
});

interface Suite {
  name: string;
  failures: string;
  errors: string;
  skipped: string;
  testcase: {
    name: string;
    failure?: { message: string };
    error?: { message: string; type: string };
    skipped?: { message: string };
  }[];
}

function suites(xml: string): { doc: Record<string, Record<string, string>>; byName: Record<string, Suite> } {
  const doc = parser.parse(xml);
  const list: Suite[] = doc.testsuites.testsuite;
  return { doc, byName: Object.fromEntries(list.map((s) => [s.name, s])) };
}

describe('renderJunit', () => {
  it('is well-formed XML with the run verdict, its load health, and one test case per metric per stage', () => {
    const xml = renderJunit(sampleRunResult('rolled-back'));
    expect(XMLValidator.validate(xml)).toBe(true);
    const { doc, byName } = suites(xml);
    expect(Object.keys(byName)).toEqual(['canary.account.run', 'canary.account.header', 'canary.account.weighted-5']);
    expect(byName['canary.account.run']!.testcase.map((c) => c.name)).toEqual(['verdict', 'load-health']);
    for (const s of ['canary.account.header', 'canary.account.weighted-5'])
      expect(byName[s]!.testcase.map((c) => c.name)).toEqual(['latency-p50', 'latency-p99', 'errors']);
    expect(doc.testsuites!.tests).toBe('8');
  });

  it('turns a failed metric into a failure that leads with the effect and the limit', () => {
    const { doc, byName } = suites(renderJunit(sampleRunResult('rolled-back')));
    // the metric and the run's verdict
    expect(doc.testsuites!.failures).toBe('2');
    const failing = byName['canary.account.weighted-5']!.testcase[1]!;
    expect(failing.failure?.message).toBe(
      'p99 23 ms vs 20 ms, +15 %, allowed +10 %: p99 is 15 % higher (e-value 64 ≥ 20)',
    );
    expect(byName['canary.account.header']!.failures).toBe('0');
  });

  it('gives a promoted run no failures, no errors and nothing skipped', () => {
    const { doc } = suites(renderJunit(sampleRunResult('promoted')));
    expect([doc.testsuites!.failures, doc.testsuites!.errors, doc.testsuites!.skipped]).toEqual(['0', '0', '0']);
  });

  it('makes an inconclusive run an error case with the reason, never a green or skipped suite', () => {
    const result = sampleRunResult('promoted');
    result.status = 'inconclusive';
    result.exitCode = 2;
    result.reason = 'maximum duration 60 s reached without a decision; missing non-inferiority of latency-p99';
    const stage = result.stages[1]!;
    stage.outcome = 'inconclusive';
    stage.reason = result.reason;
    const last = stage.intervals.at(-1)!.assessment!;
    last.decision = 'inconclusive';
    last.metrics[1] = { ...last.metrics[1]!, classification: 'inconclusive', reason: 'latency-p99 undecided' };
    const { doc, byName } = suites(renderJunit(result));
    expect(Number(doc.testsuites!.errors)).toBeGreaterThanOrEqual(2);
    expect(doc.testsuites!.skipped).toBe('0');
    expect(byName['canary.account.run']!.testcase[0]!.error?.message).toBe(`inconclusive: ${result.reason}`);
    expect(byName['canary.account.weighted-5']!.testcase[1]!.error).toMatchObject({
      type: 'inconclusive',
      message: 'inconclusive: latency-p99 undecided',
    });
  });

  it('makes an inconclusive stage with every metric passed (a sample ratio mismatch) an error too', () => {
    const result = sampleRunResult('promoted');
    result.status = 'inconclusive';
    result.stages[1]!.outcome = 'inconclusive';
    result.stages[1]!.reason = 'sample ratio mismatch: canary got 70 % of requests';
    const { byName } = suites(renderJunit(result));
    const stage = byName['canary.account.weighted-5']!;
    expect(stage.errors).toBe('1');
    expect(stage.testcase.at(-1)!.error?.message).toBe(
      'inconclusive: sample ratio mismatch: canary got 70 % of requests',
    );
  });

  it('never reports a metric without data as passed', () => {
    const result = sampleRunResult('promoted');
    const last = result.stages[1]!.intervals.at(-1)!.assessment!;
    last.metrics[2] = {
      ...last.metrics[2]!,
      classification: 'nodata',
      reason: 'no requests on account-canary & <baseline>',
    };
    const { doc, byName } = suites(renderJunit(result));
    expect(doc.testsuites!.errors).toBe('1');
    expect(byName['canary.account.weighted-5']!.testcase[2]!.error?.message).toBe(
      'no requests on account-canary & <baseline>',
    );
  });

  it('keeps skipped for a stage that never ran, and makes a stage aborted before a look an error', () => {
    const result = sampleRunResult('promoted');
    result.stages[1] = {
      ...result.stages[1]!,
      intervals: [],
      outcome: 'skipped',
      reason: 'run ended before this stage',
    };
    let { doc, byName } = suites(renderJunit(result));
    expect(doc.testsuites!.skipped).toBe('1');
    expect(byName['canary.account.weighted-5']!.testcase[0]!.skipped?.message).toBe(
      'not run: run ended before this stage',
    );
    result.stages[1] = { ...result.stages[1]!, outcome: 'aborted', reason: 'interrupted by SIGINT' };
    ({ doc, byName } = suites(renderJunit(result)));
    expect(doc.testsuites!.skipped).toBe('0');
    expect(byName['canary.account.weighted-5']!.testcase[0]!.error?.message).toBe('aborted: interrupted by SIGINT');
  });

  it('makes unreliable load an error case of the run', () => {
    const result = sampleRunResult('promoted');
    result.load = { ...result.load!, achievedRate: 120 };
    const { byName } = suites(renderJunit(result));
    const health = byName['canary.account.run']!.testcase[1]!;
    expect(health.error?.type).toBe('unreliable-load');
    expect(health.error?.message).toContain('achieved 120 req/s of 200 req/s (60 %), at least 90 %');
  });
});
