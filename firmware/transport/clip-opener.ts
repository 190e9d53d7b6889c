// What the receiver needs from the clip format: a streaming opener that takes the upload's bytes
// as they arrive and, when they end, says who sent which clip on which channel (or refuses it with
// a ClipRejection). The production opener wraps firmware/clip's streaming opener (clip-adapter.ts);
// keeping this seam small lets the receiver's protocol be tested on its own.

export interface InboundClip {
  /** Stable id of the clip (same for every recipient and every retry): the dedupe key. */
  readonly clipId: string;
  /** The sender's Ed25519 signing key (base64url), as listed in our contacts. */
  readonly senderKey: string;
  /** The contact's display name, for logs and the terminal view. */
  readonly senderName: string;
  readonly channel: string;
  readonly sequence: number;
  /** Sender's clock at recording, ms since the epoch. */
  readonly createdAt: number;
  readonly durationMs?: number;
}

export interface OpenedInbound extends InboundClip {
  /** What to keep at rest: a standard age file to this device (`age -d -i` opens it). */
  readonly stored: Uint8Array;
  /** The verified Ogg Opus audio, when the opener has it: playing the clip needs no second open. */
  readonly ogg?: Uint8Array;
}

export interface InboundOpenStream {
  /** Upload bytes in, any chunking, as they arrive. Throws (a ClipRejection) once the upload is refused. */
  push(chunk: Uint8Array): void;
  /** The body ended: `result` settles. */
  end(): void;
  /** The receiver gave up on the body (timeout, cut, oversized): `result` rejects. */
  abort(reason: unknown): void;
  /** Resolves once ended and the clip verifies; rejects with a ClipRejection, as soon as it is refused. */
  readonly result: Promise<OpenedInbound>;
  /** True once a live upload's tags named a contact: not verified yet, only worth journalling as it arrives. */
  readonly senderKnown: boolean;
}

export interface OpenHooks {
  /**
   * Called once a live upload's last byte is in, just before its signature is checked
   * (synchronously after this returns); nothing is verified yet. The receiver issues its durable
   * write here, to overlap the check.
   */
  readonly beforeCheck?: () => void;
}

/** Starts opening one upload. */
export type ClipOpener = (hooks?: OpenHooks) => InboundOpenStream;

/** Whether `senderKey` may talk to us on `channel` (from the contacts and channels config). */
export type ChannelPolicy = (channel: string, senderKey: string) => boolean;
