// The end-to-end proof that a network works: an HTTP server on 127.0.0.1 published as an onion by
// one tor and fetched through another tor's SocksPort. Used by `run check` and the testnet tests.
import { createServer, request, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { startTestnet, type TestnetOptions } from './network.js';
import { waitBootstrapped, waitDescriptorUploaded, waitReachable } from './readiness.js';

export const checkBody = 'torlk testnet ok\n';

/** An HTTP server on 127.0.0.1 (a free port) answering every request with `checkBody`. */
export async function startCheckServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(checkBody);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('HTTP server has no TCP address');
  return { server, port: address.port };
}

export function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Sends GET / over an already-connected stream (e.g. a SOCKS5 tunnel) and returns status and body. */
export function httpGetOver(socket: Socket, host: string, timeoutMs = 30_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, path: '/', method: 'GET', createConnection: () => socket, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no HTTP answer from ${host} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export interface OnionReachTimings {
  readonly onion: string;
  readonly status: number;
  readonly body: string;
  /** Seconds from the start of startTestnet to each milestone. */
  readonly networkUpS: number;
  /** When the last authority or relay reached bootstrap 100 % (undefined if one had not yet). */
  readonly serversBootstrappedS: number | undefined;
  readonly clientBootstrappedS: number;
  readonly descriptorUploadedS: number;
  readonly reachableS: number;
  readonly attempts: number;
}

/**
 * Starts a network, a client and an onion service together (as a suite would), waits for each
 * milestone on events, fetches the page and stops everything. Timings are from the network's start.
 */
export async function measureOnionReach(opts: TestnetOptions = {}, timeoutMs = 120_000): Promise<OnionReachTimings> {
  const t0 = performance.now();
  const since = () => (performance.now() - t0) / 1000;
  const { server, port } = await startCheckServer();
  try {
    const net = await startTestnet(opts);
    try {
      const networkUpS = since();
      const [client, service] = await Promise.all([net.startClient(), net.startOnionService(port)]);
      const stamp = async (p: Promise<void>) => (await p, since());
      const [clientBootstrappedS, descriptorUploadedS] = await Promise.all([
        stamp(waitBootstrapped(client, timeoutMs)),
        stamp(waitDescriptorUploaded(service.node, service.onion, timeoutMs)),
      ]);
      const { socket, attempts } = await waitReachable(client, service.onion, { timeoutMs });
      const serversBootstrapped = net.nodes().slice(0, net.authorities.length + net.relays.length).map((n) => n.bootstrappedAt);
      const serversBootstrappedS = serversBootstrapped.every((t) => t !== undefined) ? (Math.max(...serversBootstrapped) - t0) / 1000 : undefined;
      const reply = await httpGetOver(socket, service.onion);
      socket.destroy();
      return { onion: service.onion, ...reply, networkUpS, serversBootstrappedS, clientBootstrappedS, descriptorUploadedS, reachableS: since(), attempts };
    } finally {
      await net.stop();
    }
  } finally {
    await closeServer(server);
  }
}
