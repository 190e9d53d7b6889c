// Public types of the sealed clip (docs/clip-format.md). Types only, so the transport, store and
// radio core can depend on them without pulling in crypto or Ogg code.

/** The only clip layout this firmware writes and reads. */
export const CLIP_FORMAT_VERSION = 1;

/** Codec of the payload. Only Opus in Ogg (RFC 7845) exists today. */
export type ClipCodec = 'opus';

/**
 * Everything a receiver trusts about a clip. On open, every field comes from signed bytes:
 * the TORLK_* OpusTags comments, and (durationMs) the Opus stream's last granule position.
 */
export interface ClipHeader {
  readonly version: typeof CLIP_FORMAT_VERSION;
  /** 32 lowercase hex chars, random per clip: the receiver's dedupe key. */
  readonly clipId: string;
  /** Sender's Ed25519 signing public key, base64url without padding (43 chars): the signing key id. */
  readonly sender: string;
  /** Channel name the sender was talking on. */
  readonly channel: string;
  /** Per-sender sequence number (0 .. 2^53-1), increasing; the receiver's replay window uses it. */
  readonly sequence: number;
  /** Milliseconds since the Unix epoch (UTC) when the sender started the clip. */
  readonly createdAt: number;
  /** Audio duration in milliseconds, from the last granule position minus pre-skip (signed). */
  readonly durationMs: number;
  readonly codec: ClipCodec;
  /** age recipients (`age1...`) the sender addressed. Signed, so a clip can't be re-addressed. */
  readonly recipients: readonly string[];
}

/** What the caller of sealClip chooses; the rest is derived (sender from the signer, duration from the Ogg). */
export interface SealHeader {
  readonly channel: string;
  readonly sequence: number;
  readonly createdAt: number;
  /** Defaults to 16 random bytes in hex. */
  readonly clipId?: string;
}

/** Signs with the device's Ed25519 key (firmware/identity/signing-key.ts implements it). */
export interface ClipSigner {
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

/** The receiving device's age identity. */
export interface ClipIdentity {
  /** `AGE-SECRET-KEY-1...` */
  readonly ageIdentity: string;
  /** `age1...`, the recipient matching ageIdentity. */
  readonly ageRecipient: string;
}

/** The minimum a receiver needs to know about a sender (a Contact from firmware/contacts satisfies it). */
export interface ClipSender {
  readonly name: string;
  /** base64url Ed25519 public key, as in ClipHeader.sender. */
  readonly signingKey: string;
}

export interface SealClipOptions {
  /** A complete Ogg Opus file (one logical Opus stream), e.g. from the Ogg writer or opusenc. */
  readonly ogg: Uint8Array;
  readonly header: SealHeader;
  readonly signer: ClipSigner;
  /** age X25519 recipients (`age1...`); at least one. */
  readonly recipients: readonly string[];
}

export interface OpenClipOptions<S extends ClipSender = ClipSender> {
  readonly identity: ClipIdentity;
  /** Known senders; a clip signed by anyone else fails with reason 'unknown-sender'. */
  readonly contacts: readonly S[];
  /** When set, a clip for another channel fails with reason 'wrong-channel'. */
  readonly expectChannel?: string;
  /** Hard cap on the sealed size in bytes (default MAX_CLIP_BYTES); larger fails with 'too-large'. */
  readonly maxBytes?: number;
}

/** The streaming opener's options (clip-open-stream.ts). */
export interface ClipOpenStreamOptions<S extends ClipSender = ClipSender> extends OpenClipOptions<S> {
  /**
   * Called once a wire stream's last frame is in, just before the signature check runs (it runs
   * as soon as this returns): a receiver can start its durable write meanwhile. Nothing is
   * verified yet.
   */
  readonly beforeCheck?: () => void;
}

export interface OpenedClip<S extends ClipSender = ClipSender> {
  readonly header: ClipHeader;
  /** The Ogg Opus audio with TORLK_* tags, signature stream removed: hand it to the Ogg reader/player. */
  readonly ogg: Uint8Array;
  readonly sender: S;
}

/** Result of the streaming opener: the opened clip plus the standard age file to store at rest. */
export interface OpenedStreamedClip<S extends ClipSender = ClipSender> extends OpenedClip<S> {
  /** A standard age file (same age header and file key as the wire stream): `age -d` decrypts it. */
  readonly stored: Uint8Array;
}

/** Default cap: 2 MiB is ~15 minutes of 16 kbit/s Opus, far beyond a push-to-talk clip. */
export const MAX_CLIP_BYTES = 2 * 1024 * 1024;

export type ClipErrorReason =
  | 'not-age' // neither a standard age file nor a Torlk wire stream
  | 'wrong-key' // age file, but not encrypted to this device
  | 'corrupt' // age or Ogg structure broken, tag mismatch (an altered byte or a cut inside a chunk)
  | 'truncated' // ended early where a cut is visible: inside the age header, before the last wire frame
  | 'bad-signature' // well-formed, but the Ed25519 signature does not verify
  | 'unknown-sender' // signature key is not one of our contacts
  | 'not-addressed' // our age recipient is not among the signed recipients (re-encrypted clip)
  | 'wrong-channel' // signed channel differs from expectChannel
  | 'too-large' // over maxBytes
  | 'unsupported-version' // TORLK_VERSION or wire version we don't know
  | 'bad-header'; // TORLK_* tags missing or malformed (signed, but not a valid header)

/**
 * Streaming opener: push received bytes (wire stream or a standard age file) as they arrive, end()
 * when the upload ends, await the result.
 */
export interface ClipOpenStream<S extends ClipSender = ClipSender> {
  /** The next bytes, any chunking. Throws the ClipError that refused the clip ('too-large' past maxBytes, an unknown sender...). */
  push(chunk: Uint8Array): void;
  /** The upload ended: `result` settles. */
  end(): void;
  /** The upload was cut off: `result` rejects with this reason (as a ClipError). */
  abort(reason: unknown): void;
  /** Resolves once ended and verified; rejects with a ClipError as soon as the clip is refused. */
  readonly result: Promise<OpenedStreamedClip<S>>;
  /** True once a wire stream's tags named one of the contacts (the signature is checked only at the end). */
  readonly senderKnown: boolean;
}
