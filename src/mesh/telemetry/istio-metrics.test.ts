import { describe, expect, it } from 'vitest';
import { LATENCY_BUCKETS_MS } from '../../telemetry/buckets.ts';
import { sampleSum } from '../testing.ts';
import {
  IstioTelemetry,
  LABEL_NAMES,
  type RequestRecord,
  serviceLabels,
  UNKNOWN_WORKLOAD,
  workloadLabels,
} from './istio-metrics.ts';

const bff = workloadLabels({
  workload: 'bff',
  namespace: 'sprincube',
  serviceAccount: 'bff',
  labels: { app: 'bff', version: 'v1' },
});
const accountCanary = workloadLabels({
  workload: 'account-canary',
  namespace: 'sprincube',
  serviceAccount: 'account',
  labels: { app: 'account', track: 'canary' },
  version: 'v2',
});
const canary: RequestRecord = {
  reporter: 'destination',
  source: bff,
  destination: accountCanary,
  service: serviceLabels('account', 'sprincube'),
  code: 200,
  flags: '-',
  authenticated: true,
};

describe('Istio request metrics', () => {
  it('counts requests and observes durations with Istio names, the contract labels and the shared buckets', async () => {
    const t = new IstioTelemetry();
    t.record(canary, 3.2);
    t.record(canary, 7.9);
    t.record({ ...canary, code: 503, flags: 'UF' }, 0.4);
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
        /istio_request_duration_milliseconds_bucket\{le="([^"]+)",reporter="destination",[^}]*response_code="200"/g,
      ),
    ].map((m) => m[1]);
    expect(bounds).toEqual([...LATENCY_BUCKETS_MS.map(String), '+Inf']);
  });

  it("labels each request with Istio's 25 standard labels and Istio's values for them", async () => {
    const t = new IstioTelemetry();
    t.record(canary, 1);
    t.record(
      {
        reporter: 'source',
        source: workloadLabels({
          workload: 'istio-ingressgateway',
          namespace: 'istio-system',
          serviceAccount: 'istio-ingressgateway-service-account',
          labels: { app: 'istio-ingressgateway', istio: 'ingressgateway' },
        }),
        destination: UNKNOWN_WORKLOAD,
        service: serviceLabels('unknown', undefined),
        code: 404,
        flags: 'NR',
      },
      1,
    );
    const { body } = await t.exposition();
    const labelsOf = (line: string) =>
      Object.fromEntries([...line.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    const lines = body.split('\n').filter((l) => l.startsWith('istio_requests_total{'));
    expect(lines).toHaveLength(2);
    const destination = labelsOf(lines.find((l) => l.includes('reporter="destination"'))!);
    expect(Object.keys(destination)).toEqual([...LABEL_NAMES]);
    expect(LABEL_NAMES).toHaveLength(25);
    expect(destination).toEqual({
      reporter: 'destination',
      source_workload: 'bff',
      source_workload_namespace: 'sprincube',
      source_principal: 'spiffe://cluster.local/ns/sprincube/sa/bff',
      source_app: 'bff',
      source_version: 'v1',
      source_canonical_service: 'bff',
      source_canonical_revision: 'v1',
      source_cluster: 'Kubernetes',
      destination_workload: 'account-canary',
      destination_workload_namespace: 'sprincube',
      destination_principal: 'spiffe://cluster.local/ns/sprincube/sa/account',
      destination_app: 'account',
      destination_version: 'v2',
      destination_service: 'account.sprincube.svc.cluster.local',
      destination_service_name: 'account',
      destination_service_namespace: 'sprincube',
      destination_canonical_service: 'account',
      destination_canonical_revision: 'latest',
      destination_cluster: 'Kubernetes',
      request_protocol: 'http',
      response_code: '200',
      grpc_response_status: '',
      response_flags: '-',
      connection_security_policy: 'mutual_tls',
    });
    const gateway = labelsOf(lines.find((l) => l.includes('reporter="source"'))!);
    expect(gateway).toMatchObject({
      source_workload: 'istio-ingressgateway',
      source_workload_namespace: 'istio-system',
      source_app: 'istio-ingressgateway',
      source_canonical_service: 'istio-ingressgateway',
      source_canonical_revision: 'latest',
      destination_workload: 'unknown',
      destination_service: 'unknown',
      destination_cluster: 'unknown',
      response_code: '404',
      response_flags: 'NR',
      connection_security_policy: 'unknown',
    });
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
