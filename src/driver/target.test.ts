import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { InfraError } from '../core/errors.ts';
import { assertTargetReachable } from './target.ts';

let server: Server | null = null;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = null;
});

function listen(onConnection: (socket: Socket) => void): Promise<string> {
  server = createServer((socket) => {
    sockets.push(socket);
    onConnection(socket);
  });
  return new Promise((resolve) =>
    server!.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server!.address() as AddressInfo).port}`)),
  );
}

describe('assertTargetReachable', () => {
  it('a target that accepts connections but never answers is reported as such, not as unreachable', async () => {
    const url = await listen(() => {});
    const err = await assertTargetReachable(url, 200).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfraError);
    expect((err as Error).message).toMatch(/accepts connections but sent no answer within 200 ms/);
    expect((err as Error).message).not.toMatch(/unreachable/);
  });

  it('a target that closes the connection without an answer says so', async () => {
    const url = await listen((socket) => socket.once('data', () => socket.destroy()));
    const err = await assertTargetReachable(url, 1000).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/accepted the connection but closed it without an answer/);
  });

  it('a refused connection is unreachable', async () => {
    const url = await listen(() => {});
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = null;
    await expect(assertTargetReachable(url, 1000)).rejects.toThrow(/is unreachable \(ECONNREFUSED/);
  });

  it('any HTTP answer means the target is up', async () => {
    const url = await listen((socket) =>
      socket.once('data', () => socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n')),
    );
    await expect(assertTargetReachable(url, 1000)).resolves.toBeUndefined();
  });
});
