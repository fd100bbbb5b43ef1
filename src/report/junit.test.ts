import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { sampleRunResult } from './fixtures/run-result.ts';
import { renderJunit } from './junit.ts';

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  isArray: (name) => ['testsuite', 'testcase'].includes(name),
});

describe('renderJunit', () => {
  it('is well-formed XML with one test case per metric per stage', () => {
    const xml = renderJunit(sampleRunResult('rolled-back'));
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = parser.parse(xml);
    const suites = doc.testsuites.testsuite;
    expect(suites.map((s: { name: string }) => s.name)).toEqual(['canary.account.header', 'canary.account.weighted-5']);
    for (const s of suites)
      expect(s.testcase.map((c: { name: string }) => c.name)).toEqual(['latency-p50', 'latency-p99', 'errors']);
    expect(doc.testsuites.tests).toBe('6');
  });

  it('turns a failed metric into a failure that carries the reason, and counts it', () => {
    const result = sampleRunResult('rolled-back');
    const xml = renderJunit(result);
    const doc = parser.parse(xml);
    expect(doc.testsuites.failures).toBe('1');
    const failing = doc.testsuites.testsuite[1].testcase[1];
    expect(failing.failure.message).toBe('p99 is 15 % higher (e-value 64 ≥ 20)');
    expect(doc.testsuites.testsuite[0].failures).toBe('0');
  });

  it('never reports a metric without data as passed', () => {
    const result = sampleRunResult('promoted');
    const last = result.stages[1].intervals.at(-1)!.assessment!;
    last.metrics[2] = {
      ...last.metrics[2],
      classification: 'nodata',
      reason: 'no requests on account-canary & <baseline>',
    };
    const doc = parser.parse(renderJunit(result));
    expect(doc.testsuites.errors).toBe('1');
    expect(doc.testsuites.testsuite[1].testcase[2].error.message).toBe('no requests on account-canary & <baseline>');
  });

  it('marks a stage that never reached a look as skipped rather than passing', () => {
    const result = sampleRunResult('promoted');
    result.stages[1] = {
      ...result.stages[1],
      intervals: [],
      outcome: 'skipped',
      reason: 'run ended before this stage',
    };
    const doc = parser.parse(renderJunit(result));
    expect(doc.testsuites.skipped).toBe('1');
    expect(doc.testsuites.testsuite[1].testcase[0].skipped.message).toBe('run ended before this stage');
  });
});
