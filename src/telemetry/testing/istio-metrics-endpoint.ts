import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Histogram, Registry } from 'prom-client';
import { LATENCY_BUCKETS_MS } from '../buckets.ts';

/**
 * Test fixture: one replica's `/metrics` endpoint on loopback, exposing the Istio metrics with the
 * labels the local data plane uses (prom-client, like the data plane), without the data plane.
 * Tests record requests directly, so the exact counts are known, and `restart()` resets every
 * counter on the same port, as a restarted process would.
 */
export class IstioMetricsEndpoint {
  /** While true, `/metrics` answers 503 (a replica that is not ready). */
  down = false;
  private registry!: Registry;
  private requests!: Counter<string>;
  private duration!: Histogram<string>;
  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly workload: string,
    readonly service: string,
  ) {
    this.restart();
  }

  static async start(workload: string, service: string): Promise<IstioMetricsEndpoint> {
    let endpoint: IstioMetricsEndpoint | undefined;
    const server = createServer((req, res) => {
      if (req.url !== '/metrics' || !endpoint) {
        res.writeHead(404).end();
        return;
      }
      if (endpoint.down) {
        res.writeHead(503).end('down');
        return;
      }
      endpoint.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': endpoint!.registry.contentType }).end(text),
        (err: Error) => res.writeHead(500).end(err.message),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    endpoint = new IstioMetricsEndpoint(server, `http://127.0.0.1:${port}/metrics`, workload, service);
    return endpoint;
  }

  /** Records `count` requests answered with `code`, each taking `latencyMs`, as the destination reports them. */
  record(count: number, code: number, latencyMs: number, sourceWorkload = 'bff'): void {
    const labels = {
      reporter: 'destination',
      source_workload: sourceWorkload,
      destination_workload: this.workload,
      destination_service_name: this.service,
      destination_version: 'v1',
      response_code: String(code),
      response_flags: '-',
    };
    for (let i = 0; i < count; i++) {
      this.requests.inc(labels);
      this.duration.observe(labels, latencyMs);
    }
  }

  /** Also records the same requests as the source side would (they must not be counted). */
  recordSourceSide(count: number, code: number): void {
    this.requests.inc(
      {
        reporter: 'source',
        source_workload: 'bff',
        destination_workload: this.workload,
        destination_service_name: this.service,
        destination_version: 'v1',
        response_code: String(code),
        response_flags: '-',
      },
      count,
    );
  }

  /** A restarted process: every counter starts again at zero. */
  restart(): void {
    this.registry = new Registry();
    const labelNames = [
      'reporter',
      'source_workload',
      'destination_workload',
      'destination_service_name',
      'destination_version',
      'response_code',
      'response_flags',
    ];
    this.requests = new Counter({
      name: 'istio_requests_total',
      help: 'requests',
      labelNames,
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: 'istio_request_duration_milliseconds',
      help: 'duration',
      labelNames,
      buckets: [...LATENCY_BUCKETS_MS],
      registers: [this.registry],
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}
