// Whether an opened clip is taken in: one rule set asked at two moments. The receiver asks as each
// upload ends; the inbox asks again at open about clips it journalled before their checks finished
// (Inbox.beginUpload: the radio stopped before the verdict). Both judge at the time the clip arrived,
// so both reach the same verdict and, Ed25519 being deterministic, sign the very same receipt.
import type { InboxEntry, RecoveryJudge } from '../store/inbox.js';
import type { ChannelPolicy, ClipOpener, OpenedInbound } from './clip-opener.js';
import { signReceipt, type ReceiptSigner, type SignedReceipt } from './receipt.js';
import { ClipRejection } from './rejection.js';
import { defaultReplayPolicy, judgeReplay, type ReplayPolicy, type SeenClips } from './replay-window.js';

export interface AcceptanceRules {
  readonly policy: ChannelPolicy;
  readonly signer: ReceiptSigner;
  readonly replay?: ReplayPolicy;
}

export type Acceptance<E> =
  | { readonly kind: 'fresh'; readonly receipt: SignedReceipt }
  | { readonly kind: 'duplicate'; readonly entry: E };

/**
 * A verified clip that arrived at `at`: its sender must be on its channel here and it must not be a
 * replay (replay-window.ts). A fresh clip gets its receipt, a known one its original entry; any
 * other is refused with a ClipRejection.
 */
export function acceptClip<E>(opened: OpenedInbound, at: number, seen: SeenClips<E>, rules: AcceptanceRules): Acceptance<E> {
  if (!rules.policy(opened.channel, opened.senderKey)) {
    throw new ClipRejection('wrong-channel', `${opened.senderName} is not on channel "${opened.channel}" here`);
  }
  const verdict = judgeReplay(opened, at, seen, rules.replay ?? defaultReplayPolicy);
  if (verdict.kind === 'duplicate') return verdict;
  if (verdict.kind !== 'fresh') throw new ClipRejection(verdict.kind, verdict.detail);
  return { kind: 'fresh', receipt: signReceipt(rules.signer, opened.clipId, opened.stored, at) };
}

/**
 * The inbox's RecoveryJudge: the journalled body (the wire stream as received) opened as the
 * receiver opens an upload, with `open`'s current contacts, then acceptClip at its arrival time.
 */
export function recoveryJudge(open: ClipOpener, rules: AcceptanceRules): RecoveryJudge {
  const refused = (err: unknown) => {
    if (err instanceof ClipRejection) return { refused: `${err.reason}: ${err.message}` };
    throw err;
  };
  return async (body: Uint8Array, receivedAt: number, seen: SeenClips<InboxEntry>) => {
    let opened: OpenedInbound;
    try {
      const opening = open();
      opening.push(body);
      opening.end();
      opened = await opening.result;
    } catch (err) {
      return refused(err);
    }
    try {
      const verdict = acceptClip(opened, receivedAt, seen, rules);
      if (verdict.kind === 'duplicate') return { refused: 'duplicate: the inbox holds this clip already' };
      return { clip: opened, stored: opened.stored, receipt: verdict.receipt };
    } catch (err) {
      return refused(err);
    }
  };
}
