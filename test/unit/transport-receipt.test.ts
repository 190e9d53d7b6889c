import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { ed25519Signer, ReceiptError, sha256Hex, signReceipt, verifyReceipt } from '../../firmware/transport/receipt.js';
import { judgeReplay, defaultReplayPolicy } from '../../firmware/transport/replay-window.js';
import type { InboundClip } from '../../firmware/transport/clip-opener.js';

const signer = ed25519Signer(randomBytes(32));
const other = ed25519Signer(randomBytes(32));
const body = randomBytes(500);

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ReceiptError);
    return (err as ReceiptError).reason;
  }
  throw new Error('expected a ReceiptError');
}

describe('receipts', () => {
  it('verify by clip id or by body hash', () => {
    const signed = signReceipt(signer, 'c1', body, 1234);
    expect(verifyReceipt(signed, { signingKey: signer.publicKey, clipId: 'c1' })).toMatchObject({ v: 1, clip: 'c1', at: 1234, sha256: sha256Hex(body) });
    expect(verifyReceipt(signed, { signingKey: signer.publicKey, sha256: sha256Hex(body) }).clip).toBe('c1');
  });

  it('refuse every kind of bad receipt with its own reason', () => {
    const signed = signReceipt(signer, 'c1', body, 1);
    expect(reason(() => verifyReceipt(null, { signingKey: signer.publicKey }))).toBe('malformed');
    expect(reason(() => verifyReceipt({ receipt: 1, sig: 'x' }, { signingKey: signer.publicKey }))).toBe('malformed');
    expect(reason(() => verifyReceipt(signed, { signingKey: other.publicKey }))).toBe('bad-signature');
    const altered = { ...signed, receipt: signed.receipt.replace('"c1"', '"c2"') };
    expect(reason(() => verifyReceipt(altered, { signingKey: signer.publicKey }))).toBe('bad-signature');
    expect(reason(() => verifyReceipt({ ...signed, sig: 'AAAA' }, { signingKey: signer.publicKey }))).toBe('bad-signature');
    expect(reason(() => verifyReceipt(signed, { signingKey: signer.publicKey, clipId: 'c9' }))).toBe('wrong-clip');
    expect(reason(() => verifyReceipt(signed, { signingKey: signer.publicKey, sha256: sha256Hex(randomBytes(5)) }))).toBe('wrong-clip');
    // Signed by the right key but naming another receiver: a receipt relayed from elsewhere.
    const relayed = signReceipt({ publicKey: other.publicKey, sign: signer.sign }, 'c1', body, 1);
    expect(reason(() => verifyReceipt(relayed, { signingKey: signer.publicKey }))).toBe('wrong-signer');
    const notJson = { receipt: 'not json', sig: Buffer.from(signer.sign(Buffer.from('torlk-receipt-v1\nnot json'))).toString('base64url') };
    expect(reason(() => verifyReceipt(notJson, { signingKey: signer.publicKey }))).toBe('malformed');
  });

  it('rejects keys of the wrong size with a TypeError', () => {
    expect(() => ed25519Signer(new Uint8Array(31))).toThrow(TypeError);
    expect(reason(() => verifyReceipt(signReceipt(signer, 'c', body, 1), { signingKey: new Uint8Array(5) }))).toBe('bad-signature');
  });
});

describe('replay window', () => {
  const now = 10 * 24 * 3600_000;
  const clip = (over: Partial<InboundClip> = {}): InboundClip => ({ clipId: 'id1', senderKey: 'k', senderName: 'alice', channel: 'family', sequence: 7, createdAt: now, ...over });
  const none = { byClipId: () => undefined, bySequence: () => undefined };

  it('accepts a fresh clip anywhere inside the window', () => {
    expect(judgeReplay(clip(), now, none).kind).toBe('fresh');
    expect(judgeReplay(clip({ createdAt: now - defaultReplayPolicy.maxAgeMs }), now, none).kind).toBe('fresh');
    expect(judgeReplay(clip({ createdAt: now + defaultReplayPolicy.maxSkewMs }), now, none).kind).toBe('fresh');
  });

  it('calls a known clip id a duplicate even when it is old, and a reused sequence a replay', () => {
    const seen = { byClipId: (id: string) => (id === 'id1' ? 'entry' : undefined), bySequence: (k: string, s: number) => (k === 'k' && s === 7 ? 'entry' : undefined) };
    expect(judgeReplay(clip({ createdAt: 0 }), now, seen)).toEqual({ kind: 'duplicate', entry: 'entry' });
    expect(judgeReplay(clip({ clipId: 'id2' }), now, seen).kind).toBe('replay');
    expect(judgeReplay(clip({ clipId: 'id2', senderKey: 'other' }), now, seen).kind).toBe('fresh');
  });

  it('refuses created-at outside the window', () => {
    expect(judgeReplay(clip({ createdAt: now - defaultReplayPolicy.maxAgeMs - 1 }), now, none).kind).toBe('stale');
    expect(judgeReplay(clip({ createdAt: now + defaultReplayPolicy.maxSkewMs + 1 }), now, none).kind).toBe('future');
  });
});
