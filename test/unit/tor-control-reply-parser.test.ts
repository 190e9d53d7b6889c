import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fc, test as fcTest } from '@fast-check/vitest';
import { ControlReplyParser, replyKeyValues, type Reply } from '../../firmware/tor/control-reply-parser.js';
import { ControlProtocolError } from '../../firmware/tor/errors.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/tor/${name}`, import.meta.url));
const session = fixture('control-session.server.bin');
const commands = fixture('control-session.commands.txt').toString('utf8').trim().split('\n');

function parseInChunks(bytes: Uint8Array, cuts: number[], parser = new ControlReplyParser()): Reply[] {
  const out: Reply[] = [];
  let prev = 0;
  for (const cut of [...cuts, bytes.length]) {
    out.push(...parser.push(bytes.subarray(prev, cut)));
    prev = cut;
  }
  return out;
}

const crlf = (text: string) => Buffer.from(text.replace(/\n/g, '\r\n'));

describe('control reply parser on a recorded tor 0.4.9.11 session', () => {
  const whole = new ControlReplyParser().push(session);

  it('yields one reply per command, in order, with the recorded contents', () => {
    expect(whole).toHaveLength(commands.length);
    const [protocolInfo, auth, getinfo, configText, configNames, setevents, addOnion, addAuthOnion, bogus, nope] = whole;
    expect(protocolInfo!.lines.map((l) => l.text)).toEqual([
      'PROTOCOLINFO 1',
      'AUTH METHODS=COOKIE,SAFECOOKIE COOKIEFILE="/tmp/tt/d4/control_auth_cookie"',
      'VERSION Tor="0.4.9.11"',
      'OK',
    ]);
    expect(auth).toEqual({ code: 250, lines: [{ code: 250, sep: ' ', text: 'OK' }] });
    expect(replyKeyValues(getinfo!).get('version')).toBe('0.4.9.11');
    expect(configText!.lines[0]!.sep).toBe('+');
    expect(configText!.lines[0]!.data).toContain('DataDirectory /tmp/tt/d4');
    expect(configText!.lines[0]!.data).not.toMatch(/\r|\n\.$/);
    expect(configNames!.lines[0]!.data!.split('\n').length).toBeGreaterThan(300);
    expect(setevents!.code).toBe(250);
    expect(replyKeyValues(addOnion!).get('ServiceID')).toBe('5jfgyy7ctrjavpxvkb5rglwf7gkuo5vox27hxescd3vgsfcg2iwfmxqd');
    expect(addAuthOnion).toEqual({ code: 512, lines: [{ code: 512, sep: ' ', text: 'No auth clients specified' }] });
    expect(bogus!.code).toBe(510);
    expect(nope!.code).toBe(552);
  });

  it('gives the same replies when split at every byte boundary', () => {
    for (let i = 0; i <= session.length; i++) {
      expect(parseInChunks(session, [i])).toEqual(whole);
    }
  });

  it('gives the same replies fed one byte at a time', () => {
    const cuts = Array.from({ length: session.length - 1 }, (_, i) => i + 1);
    expect(parseInChunks(session, cuts)).toEqual(whole);
  });

  fcTest.prop([fc.uniqueArray(fc.integer({ min: 1, max: session.length - 1 }), { maxLength: 40 })])(
    'gives the same replies for any set of cuts',
    (cuts) => {
      expect(parseInChunks(session, cuts.sort((a, b) => a - b))).toEqual(whole);
    },
  );
});

describe('control reply parser on crafted replies', () => {
  it('dot-unstuffs data blocks and keeps empty lines', () => {
    const bytes = crlf('250+config-text=\n..hidden\nplain\n\n...\n.\n250 OK\n');
    const replies = new ControlReplyParser().push(bytes);
    expect(replies[0]!.lines[0]!.data).toBe('.hidden\nplain\n\n..');
  });

  it('keeps a 650 event that arrives between the lines of a multi-line reply apart from it', () => {
    const bytes = crlf(
      '250-version=0.4.9.11\n650 STATUS_CLIENT NOTICE CIRCUIT_ESTABLISHED\n250-status/circuit-established=1\n250 OK\n',
    );
    for (let i = 0; i <= bytes.length; i++) {
      const replies = parseInChunks(bytes, [i]);
      expect(replies.map((r) => r.code)).toEqual([650, 250]);
      expect(replies[1]!.lines.map((l) => l.text)).toEqual(['version=0.4.9.11', 'status/circuit-established=1', 'OK']);
    }
  });

  it('parses multi-line async events with their own data blocks', () => {
    const bytes = crlf('650-NS\n650+ns=\nr relay1 AAAA\n.\n650 OK\n250 OK\n');
    const replies = new ControlReplyParser().push(bytes);
    expect(replies).toHaveLength(2);
    expect(replies[0]!.lines[1]!.data).toBe('r relay1 AAAA');
    expect(replies[1]!.code).toBe(250);
  });

  it('reports 4xx/5xx replies as replies with that code', () => {
    const replies = new ControlReplyParser().push(crlf('551-first problem\n551 Unable to do it\n'));
    expect(replies).toEqual([
      { code: 551, lines: [{ code: 551, sep: '-', text: 'first problem' }, { code: 551, sep: ' ', text: 'Unable to do it' }] },
    ]);
  });

  it('accepts bare LF line endings and UTF-8 split between chunks', () => {
    const bytes = Buffer.from('250-name=Zoë\n250 OK\n', 'utf8');
    for (let i = 0; i <= bytes.length; i++) expect(parseInChunks(bytes, [i])[0]!.lines[0]!.text).toBe('name=Zoë');
  });

  it('rejects a line that is not a status line', () => {
    expect(() => new ControlReplyParser().push(crlf('hello there\n'))).toThrow(ControlProtocolError);
    expect(() => new ControlReplyParser().push(crlf('25 OK\n'))).toThrow(ControlProtocolError);
    expect(() => new ControlReplyParser().push(crlf('250*OK\n'))).toThrow(ControlProtocolError);
    expect(() => new ControlReplyParser().push(crlf('\n'))).toThrow(ControlProtocolError);
  });

  it('bounds an overlong line even when it never ends', () => {
    const parser = new ControlReplyParser({ maxLineBytes: 100 });
    expect(() => {
      for (let i = 0; i < 20; i++) parser.push(Buffer.alloc(10, 0x41));
    }).toThrow(/longer than 100 bytes/);
    const ok = new ControlReplyParser({ maxLineBytes: 100 });
    expect(ok.push(Buffer.from(`250 ${'x'.repeat(96)}\r\n`))).toHaveLength(1);
  });

  it('bounds the size of one reply built from many short lines or data', () => {
    const parser = new ControlReplyParser({ maxReplyBytes: 1000 });
    expect(() => parser.push(crlf('250-x=y\n'.repeat(200)))).toThrow(/larger than 1000 bytes/);
    const data = new ControlReplyParser({ maxReplyBytes: 1000 });
    expect(() => data.push(crlf('250+d=\n' + 'line\n'.repeat(300)))).toThrow(ControlProtocolError);
  });

  it('is idle only at a reply boundary', () => {
    const parser = new ControlReplyParser();
    parser.push(crlf('250-a\n'));
    expect(parser.idle).toBe(false);
    parser.push(crlf('250 OK\n'));
    expect(parser.idle).toBe(true);
  });
});

describe('control reply parser on arbitrary bytes', () => {
  fcTest.prop([fc.uint8Array({ maxLength: 300 }), fc.nat({ max: 300 })])(
    'either parses or throws ControlProtocolError, the same way at any split',
    (bytes, cut) => {
      const outcome = (fn: () => Reply[]) => {
        try {
          return { replies: fn() };
        } catch (err) {
          expect(err).toBeInstanceOf(ControlProtocolError);
          return { error: true };
        }
      };
      const whole = outcome(() => new ControlReplyParser({ maxLineBytes: 100 }).push(bytes));
      const split = outcome(() => parseInChunks(bytes, [Math.min(cut, bytes.length)], new ControlReplyParser({ maxLineBytes: 100 })));
      expect(split).toEqual(whole);
    },
  );

  fcTest.prop([fc.array(fc.stringMatching(/^[ -~]{0,40}$/), { maxLength: 8 })])('round-trips any data block through dot-stuffing', (lines) => {
    const stuffed = lines.map((l) => (l.startsWith('.') ? `.${l}` : l));
    const bytes = Buffer.from(['250+key=', ...stuffed, '.', '250 OK', ''].join('\r\n'));
    expect(new ControlReplyParser().push(bytes)[0]!.lines[0]!.data).toBe(lines.join('\n'));
  });
});
