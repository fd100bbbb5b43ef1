import { describe, expect, it } from 'vitest';
import { LATENCY_BUCKETS_MS } from '../../telemetry/buckets.ts';
import { sampleSum } from '../testing.ts';
import { IstioTelemetry, type RequestLabels } from './istio-metrics.ts';

const canary: RequestLabels = {
  reporter: 'destination',
  source_workload: 'bff',
  destination_workload: 'account-canary',
  destination_service_name: 'account',
  destination_version: 'v2',
  response_code: 200,
  response_flags: '-',
};

describe('Istio request metrics', () => {
  it('counts requests and observes durations with Istio names, the contract labels and the shared buckets', async () => {
    const t = new IstioTelemetry();
    t.record(canary, 3.2);
    t.record(canary, 7.9);
    t.record({ ...canary, response_code: 503, response_flags: 'UF' }, 0.4);
    const { body, contentType } = await t.exposition();
    expect(contentType).toMatch(/^text\/plain/);
    expect(
      sampleSum(body, 'istio_requests_total', {
        reporter: 'destination',
        destination_workload: 'account-canary',
        response_code: '200',
        response_flags: '-',
      }),
    ).toBe(2);
    expect(sampleSum(body, 'istio_requests_total', { response_code: '503', response_flags: 'UF' })).toBe(1);
    expect(sampleSum(body, 'istio_request_duration_milliseconds_sum', { response_code: '200' })).toBeCloseTo(11.1, 6);
    // Cumulative buckets: 3.2 ms falls in le="3.35" (the first bound ≥ 3.2), 7.9 ms does not.
    expect(sampleSum(body, 'istio_request_duration_milliseconds_bucket', { response_code: '200', le: '3.35' })).toBe(1);
    expect(sampleSum(body, 'istio_request_duration_milliseconds_bucket', { response_code: '200', le: '8.07' })).toBe(2);
    const bounds = [
      ...body.matchAll(
        /istio_request_duration_milliseconds_bucket\{le="([^"]+)",reporter="destination",source_workload="bff",destination_workload="account-canary",destination_service_name="account",destination_version="v2",response_code="200"/g,
      ),
    ].map((m) => m[1]);
    expect(bounds).toEqual([...LATENCY_BUCKETS_MS.map(String), '+Inf']);
  });

  it('puts a value equal to a bound in that bucket (upper-inclusive) and a value past the last in +Inf', async () => {
    const t = new IstioTelemetry();
    t.record(canary, 0.5);
    t.record(canary, 120_000);
    const { body } = await t.exposition();
    expect(sampleSum(body, 'istio_request_duration_milliseconds_bucket', { le: '0.5' })).toBe(1);
    expect(
      sampleSum(body, 'istio_request_duration_milliseconds_bucket', {
        le: String(LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1]),
      }),
    ).toBe(1);
    expect(sampleSum(body, 'istio_request_duration_milliseconds_bucket', { le: '+Inf' })).toBe(2);
    expect(sampleSum(body, 'istio_request_duration_milliseconds_count', {})).toBe(2);
    // A second scrape reports the same totals: the counter is not incremented twice.
    const again = (await t.exposition()).body;
    expect(sampleSum(again, 'istio_requests_total', {})).toBe(2);
  });

  it('keeps one Registry per instance, so two proxies in one process do not mix their counts', async () => {
    const a = new IstioTelemetry();
    const b = new IstioTelemetry();
    a.record(canary, 1);
    expect(sampleSum((await b.exposition()).body, 'istio_requests_total', {})).toBe(0);
    expect(sampleSum((await a.exposition()).body, 'istio_requests_total', {})).toBe(1);
  });
});
