// Free-port probing: distinct, really free, reserved within the process, and clear errors.
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { BadPortRangeError, findFreePorts, isPortFree, NoFreePortError, releasePorts } from '../../scripts/testnet/ports.js';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

function listen(port: number, host = '127.0.0.1'): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(port, host, () => resolve(s));
    servers.push(s);
  });
}

describe('ports', () => {
  test('found ports are distinct, bindable, and not handed out twice until released', async () => {
    const a = await findFreePorts(12);
    expect(new Set(a).size).toBe(12);
    for (const p of a) expect(await isPortFree(p)).toBe(true);
    const b = await findFreePorts(12);
    expect(a.filter((p) => b.includes(p))).toEqual([]);
    releasePorts([...a, ...b]);
  });

  test('a port held by another listener is not free and is skipped', async () => {
    const [p] = await findFreePorts(1);
    releasePorts([p!]);
    await listen(p!);
    expect(await isPortFree(p!)).toBe(false);
    await expect(findFreePorts(1, { low: p!, high: p! })).rejects.toThrow(NoFreePortError);
  });

  test('too few ports in the range: NoFreePortError says how many were found, and releases them', async () => {
    const [p] = await findFreePorts(1);
    releasePorts([p!]);
    const err = await findFreePorts(2, { low: p!, high: p! }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoFreePortError);
    expect((err as Error).message).toBe(`only 1 of 2 free ports on 127.0.0.1 in ${p}-${p}`);
    expect(await findFreePorts(1, { low: p!, high: p! })).toEqual([p]);
    releasePorts([p!]);
  });

  test.each([
    [{ low: 0, high: 10 }], [{ low: 10, high: 5 }], [{ low: 1, high: 70000 }], [{ low: 1.5, high: 9 }],
  ])('bad range %o is refused', async (range) => {
    await expect(findFreePorts(1, range)).rejects.toThrow(BadPortRangeError);
  });

  test.each([[-1], [1.5], [Number.NaN]])('bad count %d is refused', async (count) => {
    await expect(findFreePorts(count)).rejects.toThrow(RangeError);
  });
});
