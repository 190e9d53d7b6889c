// openClip: a standard age file (what the outbox stores and retries send) → verified clip.
import { AGE_MAGIC, decryptAgeFile } from './age-file.js';
import { ClipError } from './clip-error.js';
import { MAX_CLIP_BYTES, type ClipSender, type OpenClipOptions, type OpenedClip } from './clip-types.js';
import { verifyClip } from './clip-verifier.js';

export async function openClip<S extends ClipSender>(bytes: Uint8Array, opts: OpenClipOptions<S>): Promise<OpenedClip<S>> {
  const cap = opts.maxBytes ?? MAX_CLIP_BYTES;
  if (bytes.length > cap) throw new ClipError('too-large', `clip is ${bytes.length} bytes, the limit is ${cap}`);
  if (bytes.length < AGE_MAGIC.length) {
    // A prefix of the age magic is a truncated clip; anything else is not age at all.
    if (AGE_MAGIC.subarray(0, bytes.length).every((b, i) => b === bytes[i]) && bytes.length > 0) throw new ClipError('truncated', 'clip truncated inside the age header');
    throw new ClipError('not-age', 'not an age file (no "age-encryption.org/v1" line)');
  }
  const plain = await decryptAgeFile(bytes, opts.identity.ageIdentity);
  return verifyClip(plain, opts);
}
