// The ADD_ONION commands OnionService sends and how it treats tor's answers, against a scripted
// control peer. That tor accepts them for real is checked in test/integration/tor-*.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { encodeClientAuthPublicKey, generateClientAuthKeyPair } from '../../firmware/tor/client-auth.js';
import { ControlReplyError } from '../../firmware/tor/errors.js';
import { addOnionKeyBlob, onionKeyFromSeed } from '../../firmware/tor/onion-key.js';
import { OnionService } from '../../firmware/tor/onion-service.js';
import { torrcFor } from '../../firmware/tor/tor-process.js';
import { scriptedControlPeer, type Script } from '../fixtures/tor/scripted-control-peer.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
// publish() subscribes to HS_DESC first (to catch the upload); that SETEVENTS is always accepted.
async function peer(script: Script) {
  const p = await scriptedControlPeer((line, socket) => (line.startsWith('SETEVENTS ') ? '250 OK\n' : script(line, socket)));
  cleanups.push(() => p.close());
  return p;
}

const key = onionKeyFromSeed(Buffer.alloc(32, 7));
const alice = generateClientAuthKeyPair();
const bob = generateClientAuthKeyPair();
const ok = `250-ServiceID=${key.serviceId}\n250 OK\n`;

describe('OnionService.publish', () => {
  it('sends one ADD_ONION with our key, Detach+V3Auth, PoW, port 80 → 127.0.0.1 and one ClientAuthV3 per contact', async () => {
    const { control, received } = await peer(() => ok);
    const service = new OnionService({ key, localPort: 8123, authorizedClients: [alice.publicKey, bob.publicKey] });
    await service.publish(control);
    expect(received).toEqual([
      'SETEVENTS HS_DESC',
      `ADD_ONION ${addOnionKeyBlob(key)} Flags=Detach,V3Auth PoWDefensesEnabled=1 Port=80,127.0.0.1:8123 ` +
        `ClientAuthV3=${encodeClientAuthPublicKey(alice.publicKey)} ClientAuthV3=${encodeClientAuthPublicKey(bob.publicKey)}`,
    ]);
    expect(service.address).toBe(`${key.serviceId}.onion`);
  });

  it('adds a Port= for each extra port (the e2e bench\'s echo beside the receiver), after port 80', async () => {
    const { control, received } = await peer(() => ok);
    await new OnionService({ key, localPort: 8123, authorizedClients: [alice.publicKey], extraPorts: [{ virtualPort: 7, localPort: 9007 }] }).publish(control);
    expect(received[1]).toContain(' Port=80,127.0.0.1:8123 Port=7,127.0.0.1:9007 ClientAuthV3=');
  });

  it('drops PoW once, and for good, when this tor does not know the keyword', async () => {
    const { control, received } = await peer((line) =>
      line.includes('PoWDefensesEnabled') ? '512 Bad arguments to ADD_ONION: Unrecognized keyword argument "PoWDefensesEnabled"\n' : ok,
    );
    const service = new OnionService({ key, localPort: 8123, authorizedClients: [alice.publicKey] });
    await service.publish(control);
    await service.publish(control);
    expect(received.filter((l) => l.startsWith('ADD_ONION')).map((l) => l.includes('PoW'))).toEqual([true, false, false]);
  });

  it('treats an address collision (already published on this tor) as done', async () => {
    const { control } = await peer(() => '550 Onion address collision\n');
    await new OnionService({ key, localPort: 8123, authorizedClients: [alice.publicKey] }).publish(control);
  });

  it('fails with ControlReplyError on other refusals, without the key in the message', async () => {
    const blob = addOnionKeyBlob(key);
    const { control } = await peer(() => `512 Failed to decode ED25519-V3 key "${blob.slice(11)}"\n`);
    const err = await new OnionService({ key, localPort: 8123, authorizedClients: [alice.publicKey] }).publish(control).catch((e: Error) => e);
    expect(err).toBeInstanceOf(ControlReplyError);
    expect(String(err)).not.toContain(blob.slice(11));
  });

  it('fails if tor publishes a different service id than our key derives', async () => {
    const other = onionKeyFromSeed(Buffer.alloc(32, 8));
    const { control } = await peer(() => `250-ServiceID=${other.serviceId}\n250 OK\n`);
    await expect(new OnionService({ key, localPort: 8123, authorizedClients: [alice.publicKey] }).publish(control)).rejects.toThrow(
      /our key derives/,
    );
  });

  it('resolves waitForUpload on HS_DESC UPLOADED for its own id only', async () => {
    const other = onionKeyFromSeed(Buffer.alloc(32, 8));
    const { control, peer: socket } = await peer((line) => (line.startsWith('SETEVENTS') ? '250 OK\n' : undefined));
    const service = new OnionService({ key, localPort: 8123, authorizedClients: [alice.publicKey] });
    let done = false;
    const waiting = service.waitForUpload(control, 5000).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 50));
    socket().write(`650 HS_DESC UPLOADED ${other.serviceId} UNKNOWN $AAAA~relay\r\n`);
    await new Promise((r) => setTimeout(r, 50));
    expect(done).toBe(false);
    socket().write(`650 HS_DESC UPLOADED ${key.serviceId} UNKNOWN $AAAA~relay\r\n`);
    await waiting;
    expect(done).toBe(true);
  });

  it('remembers an upload that happened between publish and waitForUpload', async () => {
    const { control, peer: socket } = await peer(() => ok);
    const service = new OnionService({ key, localPort: 8123, authorizedClients: [alice.publicKey] });
    await service.publish(control);
    socket().write(`650 HS_DESC UPLOADED ${key.serviceId} UNKNOWN $AAAA~relay\r\n`);
    await new Promise((r) => setTimeout(r, 50));
    await service.waitForUpload(control, 100); // would time out if the event had been missed
  });

  it('times out waitForUpload with a clear error', async () => {
    const { control } = await peer(() => '250 OK\n');
    const service = new OnionService({ key, localPort: 8123, authorizedClients: [alice.publicKey] });
    await expect(service.waitForUpload(control, 100)).rejects.toThrow(/was not uploaded within 100 ms/);
  });

  it('rejects bad options at construction: no contacts, bad ports', () => {
    expect(() => new OnionService({ key, localPort: 8123, authorizedClients: [] })).toThrow(/at least one authorised contact/);
    expect(() => new OnionService({ key, localPort: 0, authorizedClients: [alice.publicKey] })).toThrow(TypeError);
    expect(() => new OnionService({ key, localPort: 70000, authorizedClients: [alice.publicKey] })).toThrow(TypeError);
    expect(() => new OnionService({ key, localPort: 80, virtualPort: 1.5, authorizedClients: [alice.publicKey] })).toThrow(TypeError);
    expect(() => new OnionService({ key, localPort: 80, authorizedClients: [alice.publicKey], extraPorts: [{ virtualPort: 7, localPort: 0 }] })).toThrow(/not a TCP port: 0/);
    // Tor would send each stream to one of a repeated port's targets at random.
    expect(() => new OnionService({ key, localPort: 80, authorizedClients: [alice.publicKey], extraPorts: [{ virtualPort: 80, localPort: 9007 }] })).toThrow(/virtual port listed twice/);
    expect(() => new OnionService({ key, localPort: 80, authorizedClients: [new Uint8Array(5)] })).toThrow(/32 bytes/);
  });
});

describe('torrcFor', () => {
  it('writes explicit options: own DataDirectory, loopback control port with cookie, SOCKS with ExtendedErrors, owner pid', () => {
    const text = torrcFor({ dataDir: '/d', owningPid: 4242 }, '/data dir');
    expect(text).toContain('DataDirectory "/data dir"');
    expect(text).toContain('ControlPort 127.0.0.1:auto');
    expect(text).toContain('ControlPortWriteToFile "/data dir/control-port"');
    expect(text).toContain('CookieAuthentication 1');
    expect(text).toContain('SocksPort 127.0.0.1:auto ExtendedErrors');
    expect(text).toContain('__OwningControllerProcess 4242');
    expect(torrcFor({ dataDir: '/d', socksPort: 0 }, '/d')).toContain('SocksPort 0\n');
    expect(torrcFor({ dataDir: '/d', socksPort: 9150 }, '/d')).toContain('SocksPort 127.0.0.1:9150 ExtendedErrors');
  });

  it('refuses extra config that would smuggle in more lines', () => {
    expect(() => torrcFor({ dataDir: '/d', extraConfig: ['Log notice stdout\nControlPort 0.0.0.0:9051'] }, '/d')).toThrow(TypeError);
  });
});
