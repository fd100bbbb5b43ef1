/**
 * The proxy's admin listener, apart from the traffic port as Istio's merged-metrics port (15020) is:
 * `/metrics` for Prometheus and `/healthz`. Scrapes are not traffic, so they are never counted.
 */
import { createServer, type Server } from 'node:http';
import type { IstioTelemetry } from './telemetry/istio-metrics.ts';

export function adminServer(telemetry: IstioTelemetry): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') {
      telemetry.exposition().then(
        ({ contentType, body }) => {
          res.writeHead(200, { 'content-type': contentType });
          res.end(body);
        },
        (err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(err));
        },
      );
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found: try /metrics');
  });
}
