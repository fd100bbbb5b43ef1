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

/**
 * `count` distinct ports that were free a moment ago. The kernel may hand out a port it just gave
 * (each probe is closed at once), so a repeat is asked again, up to `count * 10` probes.
 */
export async function distinctFreeLoopbackPorts(
  count: number,
  probe: () => Promise<number> = freeLoopbackPort,
): Promise<number[]> {
  const ports = new Set<number>();
  for (let probes = 0; ports.size < count; probes++) {
    if (probes >= count * 10) throw new Error(`no ${count} distinct free ports on 127.0.0.1 after ${probes} probes`);
    ports.add(await probe());
  }
  return [...ports];
}
