// The generated torrc files: every listener bound to 127.0.0.1 explicitly, the measured timing
// options where they belong, and the lines a firmware tor needs to join.
import { describe, expect, test } from 'vitest';
import { clientJoinLines, dirAuthorityLine, isValidNickname, torrcLines, type AuthorityDescriptor, type NodeConfig } from '../../scripts/testnet/torrc.js';

const auth: AuthorityDescriptor = { nickname: 'test000a', orPort: 15001, dirPort: 15002, v3ident: 'A'.repeat(40), fingerprint: 'B'.repeat(40) };
const base = { nickname: 'n1', dataDir: '/tmp/x/n1', controlPort: 16000, ownerPid: 4242, authorities: [auth] };
const configs: NodeConfig[] = [
  { ...base, role: 'authority', orPort: 16001, dirPort: 16002 },
  { ...base, role: 'relay', orPort: 16001, dirPort: 16002 },
  { ...base, role: 'client', socksPort: 16003 },
  { ...base, role: 'onion-service', onion: { virtualPort: 80, targetPort: 8080 } },
];

const listenerOptions = /^(ORPort|DirPort|ControlPort|SocksPort|DNSPort|TransPort|NatdPort|HTTPTunnelPort|MetricsPort|ExtORPort) (.*)$/;

describe('torrc', () => {
  test.each(configs)('$role: every listener is 127.0.0.1:<port> or 0 (off)', (c) => {
    const lines = torrcLines(c);
    const listeners = lines.map((l) => listenerOptions.exec(l)).filter((m) => m !== null);
    expect(listeners.length).toBeGreaterThan(0);
    for (const m of listeners) expect(m[2]).toMatch(/^(0|127\.0\.0\.1:\d+( ExtendedErrors)?)$/);
    expect(lines).toContain('ControlPort 127.0.0.1:16000');
    expect(lines).toContain('ClientUseIPv6 0');
    expect(lines).toContain('TestingTorNetwork 1');
    expect(lines).toContain('__OwningControllerProcess 4242');
    expect(lines).toContain('CookieAuthentication 1');
    expect(lines).toContain(dirAuthorityLine(auth));
    // The pitfall in the planning note: DisableNetwork in a torrc comes back on every reload.
    expect(lines.some((l) => l.startsWith('DisableNetwork'))).toBe(false);
  });

  test('relays assume reachability too, authorities vote every 20 s (20/4/4) after a first 10 s round', () => {
    const [authority, relay, client] = configs.map(torrcLines);
    expect(authority).toContain('AssumeReachable 1');
    expect(relay).toContain('AssumeReachable 1');
    expect(relay).toContain('ExitRelay 0');
    expect(authority).toEqual(expect.arrayContaining(['V3AuthVotingInterval 20', 'V3AuthVoteDelay 4', 'V3AuthDistDelay 4', 'TestingV3AuthInitialVotingInterval 10', 'TestingV3AuthInitialVoteDelay 2', 'TestingV3AuthInitialDistDelay 2']));
    expect(authority).toContain('ConsensusParams KISTSchedRunInterval=3');
    expect(relay!.some((l) => /^(V3AuthVot|V3AuthDist|TestingV3Auth|AuthoritativeDirectory|ConsensusParams)/.test(l))).toBe(false);
    expect(client!.some((l) => l.startsWith('ORPort') || l.startsWith('AssumeReachable'))).toBe(false);
  });

  test('the onion service forwards its virtual port to 127.0.0.1 and has no SocksPort', () => {
    const lines = torrcLines(configs[3]!);
    expect(lines).toEqual(expect.arrayContaining(['SocksPort 0', 'HiddenServiceDir /tmp/x/n1/hs', 'HiddenServicePort 80 127.0.0.1:8080', 'HiddenServiceVersion 3']));
  });

  test('a DirAuthority line has both fingerprints and the loopback DirPort', () => {
    expect(dirAuthorityLine(auth)).toBe(`DirAuthority test000a orport=15001 no-v2 v3ident=${'A'.repeat(40)} 127.0.0.1:15002 ${'B'.repeat(40)}`);
  });

  test('client join lines carry every authority and TestingTorNetwork, but no ports or DataDirectory', () => {
    const lines = clientJoinLines([auth, { ...auth, nickname: 'test001a' }]);
    expect(lines.filter((l) => l.startsWith('DirAuthority '))).toHaveLength(2);
    expect(lines).toContain('TestingTorNetwork 1');
    expect(lines.some((l) => /^(DataDirectory|SocksPort|ControlPort|__Owning)/.test(l))).toBe(false);
  });

  test.each([
    [{ ...base, role: 'relay' } as NodeConfig, /relay n1 needs a ORPort/],
    [{ ...base, role: 'authority', orPort: 1 } as NodeConfig, /authority n1 needs a DirPort/],
    [{ ...base, role: 'client' } as NodeConfig, /client n1 needs a SocksPort/],
    [{ ...base, role: 'onion-service' } as NodeConfig, /onion-service n1 needs onion ports/],
  ])('a config missing a port is refused: %#', (c, message) => {
    expect(() => torrcLines(c)).toThrow(message);
  });

  test.each([
    ['test000a', true], ['a', true], ['x'.repeat(19), true],
    ['', false], ['x'.repeat(20), false], ['bad-name', false], ['with space', false],
  ])('nickname %j valid: %s', (name, ok) => {
    expect(isValidNickname(name)).toBe(ok);
  });
});
