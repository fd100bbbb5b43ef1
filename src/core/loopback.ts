/** Loopback helpers shared by what starts servers for the harness (Prometheus) and by the test support. */
import { createServer } from 'node:net';

/** A port that was free a moment ago: bind 127.0.0.1:0, read it back, close. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port on 127.0.0.1')),
      );
    });
  });
}
