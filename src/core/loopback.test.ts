import { describe, expect, it } from 'vitest';
import { distinctFreeLoopbackPorts } from './loopback.ts';

describe('distinctFreeLoopbackPorts', () => {
  it('asks again when the kernel hands out a port it just gave', async () => {
    const handed = [4001, 4001, 4002, 4001, 4003];
    const ports = await distinctFreeLoopbackPorts(3, async () => handed.shift()!);
    expect(ports).toEqual([4001, 4002, 4003]);
    expect(handed).toEqual([]);
  });

  it('gives up after ten probes per port, naming how many it found', async () => {
    await expect(distinctFreeLoopbackPorts(2, async () => 4001)).rejects.toThrow(
      'no 2 distinct free ports on 127.0.0.1 after 20 probes',
    );
  });

  it('returns distinct ports from the real loopback', async () => {
    expect(new Set(await distinctFreeLoopbackPorts(6)).size).toBe(6);
  });
});
