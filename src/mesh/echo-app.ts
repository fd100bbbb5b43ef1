/**
 * A trivial upstream for the data plane's own tests and benchmark: answers every request at once with
 * a small JSON body naming the workload, and `x-served-by` like the reference app. It lets the mesh be
 * measured and tested without the app's own latency or dependencies.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export function echoHandler(workload: string): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    req.resume();
    const body = JSON.stringify({
      workload,
      method: req.method,
      path: req.url,
      endUser: req.headers['end-user'] ?? null,
    });
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'x-served-by': workload,
    });
    res.end(body);
  };
}
