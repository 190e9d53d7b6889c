// Reading `ss -ltunpH`: recorded lines, including the wildcard and IPv6 forms a leak would show.
import { describe, expect, test } from 'vitest';
import { isLoopback, listeningSockets, parseSsListeners } from '../../scripts/testnet/listeners.js';

const recorded = `tcp   LISTEN 0      128      0.0.0.0:2024  0.0.0.0:*
tcp   LISTEN 0      4096   127.0.0.1:43447 0.0.0.0:* users:(("tor",pid=9489,fd=6))
tcp   LISTEN 0      4096        [::]:9050     [::]:* users:(("tor",pid=77,fd=8),("tor",pid=78,fd=8))
tcp   LISTEN 0      511        [::1]:3000     [::]:* users:(("node",pid=5,fd=20))
udp   UNCONN 0      0      127.0.0.53%lo:53   0.0.0.0:* users:(("resolved",pid=6,fd=12))
tcp   LISTEN 0      5            *:7000        *:*
garbage line
`;

describe('listeners', () => {
  test('parses addresses, ports and every pid', () => {
    expect(parseSsListeners(recorded)).toEqual([
      { protocol: 'tcp', address: '0.0.0.0', port: 2024, pids: [] },
      { protocol: 'tcp', address: '127.0.0.1', port: 43447, pids: [9489] },
      { protocol: 'tcp', address: '::', port: 9050, pids: [77, 78] },
      { protocol: 'tcp', address: '::1', port: 3000, pids: [5] },
      { protocol: 'udp', address: '127.0.0.53', port: 53, pids: [6] },
      { protocol: 'tcp', address: '*', port: 7000, pids: [] },
    ]);
  });

  test('empty and malformed output gives no listeners', () => {
    expect(parseSsListeners('')).toEqual([]);
    expect(parseSsListeners('tcp LISTEN 0 1 nonsense 0.0.0.0:*\nudp\n')).toEqual([]);
  });

  test.each([
    ['127.0.0.1', true], ['127.1.2.3', true], ['::1', true],
    ['0.0.0.0', false], ['::', false], ['*', false], ['10.0.0.1', false], ['::ffff:127.0.0.1', false],
  ])('%s is loopback: %s', (address, expected) => {
    expect(isLoopback(address)).toBe(expected);
  });

  test('the live query sees a listener of this process', async () => {
    const { createServer } = await import('node:net');
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const mine = (await listeningSockets()).find((s) => s.port === port);
      expect(mine).toEqual({ protocol: 'tcp', address: '127.0.0.1', port, pids: [process.pid] });
    } finally {
      server.close();
    }
  });
});
