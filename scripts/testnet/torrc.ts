// The torrc files of the private network. Pure functions: each returns lines, so tests check them
// without starting tor. Options and their reasons come from the measured planning note
// (/work/shared/notes/tor-testnet-and-control-port.md) and chutney's hs-v3-min network.

import { firstRound, laterRounds } from './voting-clock.js';

export type NodeRole = 'authority' | 'relay' | 'client' | 'onion-service';

/** What another tor needs to find an authority: its nickname, ports and both fingerprints. */
export interface AuthorityDescriptor {
  readonly nickname: string;
  readonly orPort: number;
  readonly dirPort: number;
  /** v3 identity fingerprint from tor-gencert's certificate. */
  readonly v3ident: string;
  /** Router identity fingerprint from tor --list-fingerprint. */
  readonly fingerprint: string;
}

export interface NodeConfig {
  readonly role: NodeRole;
  readonly nickname: string;
  readonly dataDir: string;
  readonly controlPort: number;
  readonly orPort?: number;
  readonly dirPort?: number;
  readonly socksPort?: number;
  /** PID of the harness: tor exits when it does (checked every few seconds). */
  readonly ownerPid: number;
  readonly authorities: readonly AuthorityDescriptor[];
  /** For an onion service: virtual port and the 127.0.0.1 port it forwards to. */
  readonly onion?: { readonly virtualPort: number; readonly targetPort: number };
}

/** A DirAuthority line; every node, firmware tors included, must carry the same set. */
export function dirAuthorityLine(a: AuthorityDescriptor): string {
  return `DirAuthority ${a.nickname} orport=${a.orPort} no-v2 v3ident=${a.v3ident} 127.0.0.1:${a.dirPort} ${a.fingerprint}`;
}

/**
 * What a tor outside the harness (the firmware's own, started by its supervisor) adds to its torrc to
 * join this network instead of the public one. Ports, DataDirectory and control settings stay its own.
 */
export function clientJoinLines(authorities: readonly AuthorityDescriptor[]): string[] {
  return [
    'TestingTorNetwork 1',
    ...authorities.map(dirAuthorityLine),
    'ClientUseIPv6 0',
    // Four relays suffice for an onion path; the default fraction would wait for more descriptors.
    'PathsNeededToBuildCircuits 0.67',
  ];
}

function need(value: number | undefined, what: string, c: NodeConfig): number {
  if (value === undefined) throw new TypeError(`${c.role} ${c.nickname} needs a ${what}`);
  return value;
}

function commonLines(c: NodeConfig): string[] {
  return [
    `# ${c.role} ${c.nickname}, written by scripts/testnet`,
    'TestingTorNetwork 1',
    `Nickname ${c.nickname}`,
    `DataDirectory ${c.dataDir}`,
    'RunAsDaemon 0',
    `ControlPort 127.0.0.1:${c.controlPort}`,
    'CookieAuthentication 1',
    `__OwningControllerProcess ${c.ownerPid}`,
    `PidFile ${c.dataDir}/pid`,
    `Log notice file ${c.dataDir}/notice.log`,
    // stdout carries the same lines to the harness, which waits on "Opened Control listener".
    'Log notice stdout',
    'SafeLogging 0',
    'LogTimeGranularity 1',
    'ShutdownWaitLength 0',
    'PathsNeededToBuildCircuits 0.67',
    'TestingDirAuthVoteExit *',
    'TestingDirAuthVoteHSDir *',
    'TestingDirAuthVoteGuard *',
    'TestingMinExitFlagThreshold 0',
    'V3AuthNIntervalsValid 2',
    'ClientUseIPv6 0',
    ...c.authorities.map(dirAuthorityLine),
  ];
}

function serverLines(c: NodeConfig): string[] {
  return [
    'SocksPort 0',
    'Address 127.0.0.1',
    `ORPort 127.0.0.1:${need(c.orPort, 'ORPort', c)}`,
    `DirPort 127.0.0.1:${need(c.dirPort, 'DirPort', c)}`,
    'ExitRelay 0',
    'ServerDNSDetectHijacking 0',
    'ServerDNSTestAddresses',
    // On relays too (chutney sets it only on authorities): relays enter the first consensus instead
    // of waiting for their ORPort self-test, which was the largest start-up saving measured.
    'AssumeReachable 1',
    'ContactInfo testnet@torlk.invalid',
  ];
}

// Voting clock: see voting-clock.ts. The first consensus on a 10 s clock about halved start to
// onion reachable here (paired runs: 17-22 s against 20-51 s with 20/4/4 throughout).
const authorityLines = [
  'AuthoritativeDirectory 1',
  'V3AuthoritativeDirectory 1',
  `TestingV3AuthInitialVotingInterval ${firstRound.intervalS}`,
  `TestingV3AuthInitialVoteDelay ${firstRound.voteDelayS}`,
  `TestingV3AuthInitialDistDelay ${firstRound.distDelayS}`,
  `V3AuthVotingInterval ${laterRounds.intervalS}`,
  `V3AuthVoteDelay ${laterRounds.voteDelayS}`,
  `V3AuthDistDelay ${laterRounds.distDelayS}`,
  // The public network's authorities vote KIST's run interval down from tor's built-in 10 ms (to
  // 2 ms, lately 3 ms). Without it every tor here holds a cell that follows another within 10 ms
  // until the next run, at each hop: round trips then jump between ~7 and ~16 ms, and latency
  // measured here would not be the public network's.
  'ConsensusParams KISTSchedRunInterval=3',
];

/** The torrc of one node, as lines. */
export function torrcLines(c: NodeConfig): string[] {
  switch (c.role) {
    case 'authority':
      return [...commonLines(c), ...serverLines(c), ...authorityLines];
    case 'relay':
      return [...commonLines(c), ...serverLines(c)];
    case 'client':
      // ExtendedErrors: onion failures come back as 0xF0-0xF7 instead of a bare 0x01/0x04.
      return [...commonLines(c), `SocksPort 127.0.0.1:${need(c.socksPort, 'SocksPort', c)} ExtendedErrors`];
    case 'onion-service': {
      if (!c.onion) throw new TypeError(`onion-service ${c.nickname} needs onion ports`);
      const socks = c.socksPort === undefined ? 'SocksPort 0' : `SocksPort 127.0.0.1:${c.socksPort}`;
      return [
        ...commonLines(c),
        socks,
        `HiddenServiceDir ${c.dataDir}/hs`,
        `HiddenServicePort ${c.onion.virtualPort} 127.0.0.1:${c.onion.targetPort}`,
        'HiddenServiceVersion 3',
      ];
    }
  }
}

/** Tor nicknames: 1 to 19 letters and digits. */
export function isValidNickname(name: string): boolean {
  return /^[A-Za-z0-9]{1,19}$/.test(name);
}
