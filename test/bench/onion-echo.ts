// Round-trip references: a TCP echo server on 127.0.0.1, reached through a virtual port of bob's
// own onion service in the e2e bench (so on the talks' circuit), or behind an onion service of its
// own on the private network (the stall diagnosis, onion-rtt-stall.ts). What comes back is what
// went in, with no HTTP parsing or application work at the far end, so a probe through either
// times tor's path and nothing else.
import net from 'node:net';
import type { Socket } from 'node:net';
import type { OnionServiceNode, Testnet } from '../../scripts/testnet/network.js';
import { waitDescriptorUploaded } from '../../scripts/testnet/readiness.js';

export class OnionEchoError extends Error {
  constructor(what: string, detail: string, options?: ErrorOptions) {
    super(`onion echo: ${what}: ${detail}`, options);
    this.name = 'OnionEchoError';
  }
}

export interface OnionEcho {
  readonly onion: string;
  /** The onion's virtual port (80). */
  readonly port: number;
  readonly service: OnionServiceNode;
  /** Stops the echo server and its onion service tor. */
  stop(): Promise<void>;
}

/** The virtual port of bob's onion that reaches the bench's echo server (TCP echo's own number). */
export const ECHO_VIRTUAL_PORT = 7;

/** A TCP echo server on 127.0.0.1. */
export interface EchoServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Starts a TCP echo server on 127.0.0.1 (the target of an onion's virtual port). */
export async function startEchoServer(): Promise<EchoServer> {
  const sockets = new Set<Socket>();
  const server = net.createServer((s) => {
    // Our end must not be the one that holds a small reply for an ACK (Nagle).
    s.setNoDelay(true);
    sockets.add(s);
    s.on('data', (chunk) => s.write(chunk));
    s.on('error', () => s.destroy());
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new OnionEchoError('listen on 127.0.0.1', err.message, { cause: err })));
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Starts the echo server and its onion service; resolves once the descriptor is uploaded. */
export async function startOnionEcho(net_: Testnet, timeoutMs = 120_000): Promise<OnionEcho> {
  const server = await startEchoServer();
  let service: OnionServiceNode | undefined;
  try {
    service = await net_.startOnionService(server.port);
    await waitDescriptorUploaded(service.node, service.onion, timeoutMs);
  } catch (err) {
    await service?.node.stop();
    await server.close();
    throw err;
  }
  const svc = service;
  return {
    onion: svc.onion,
    port: svc.virtualPort,
    service: svc,
    async stop() {
      try {
        await svc.node.stop();
      } finally {
        await server.close();
      }
    },
  };
}

/** Writes `payload` once on an open stream and resolves with the ms until the first byte comes back. */
export function timeFirstByte(stream: Socket, payload: string | Uint8Array, timeoutMs = 30_000): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const t0 = performance.now();
    const timer = setTimeout(() => {
      cleanup();
      reject(new OnionEchoError('probe', `no answer in ${timeoutMs} ms`));
    }, timeoutMs);
    const onData = () => {
      cleanup();
      resolve(performance.now() - t0);
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new OnionEchoError('probe', err.message, { cause: err }));
    };
    const onClose = () => {
      cleanup();
      reject(new OnionEchoError('probe', 'the stream closed before any answer'));
    };
    function cleanup() {
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('error', onError);
      stream.off('close', onClose);
    }
    stream.on('data', onData);
    stream.once('error', onError);
    stream.once('close', onClose);
    stream.write(payload);
  });
}
