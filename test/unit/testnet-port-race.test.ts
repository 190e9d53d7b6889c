// A probed port taken by another process before tor binds it: the start is retried with fresh
// ports, but only for that failure and only twice.
import { describe, expect, test } from 'vitest';
import { retryPortRace } from '../../scripts/testnet/network.js';
import { TorStartError } from '../../scripts/testnet/tor-node.js';

const bindFailure = () => new TorStartError('test006c', 'exited with code 1', '[warn] Could not bind to 127.0.0.1:20001: Address already in use. Is Tor already running?');

describe('retryPortRace', () => {
  test('a bind failure is retried and the later success returned', async () => {
    let calls = 0;
    const result = await retryPortRace(async () => {
      calls++;
      if (calls < 3) throw bindFailure();
      return 'started';
    });
    expect(result).toBe('started');
    expect(calls).toBe(3);
  });

  test('a third bind failure is thrown', async () => {
    let calls = 0;
    const failing = retryPortRace(async () => {
      calls++;
      throw bindFailure();
    });
    await expect(failing).rejects.toThrow(/Could not bind to 127\.0\.0\.1:20001/);
    expect(calls).toBe(3);
  });

  test.each([
    [new TorStartError('test000a', 'exited with code 1', "[warn] Unknown option 'Bogus'")],
    [new Error('Could not bind, but not from tor')],
  ])('any other failure is thrown at once: %s', async (error) => {
    let calls = 0;
    await expect(retryPortRace(async () => {
      calls++;
      throw error;
    })).rejects.toBe(error);
    expect(calls).toBe(1);
  });
});
