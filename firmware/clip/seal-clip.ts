// sealClip: Ogg Opus + header → signed clip → standard age file to each recipient.
import { assembleAgeFile, createAgeHeader, concatBytes } from './age-file.js';
import { ClipAssembler } from './clip-assembler.js';
import type { ClipHeader, SealClipOptions } from './clip-types.js';

/** Seals one finished clip. Returns the standard age file and the header it carries. */
export async function sealClipWithHeader(opts: SealClipOptions): Promise<{ sealed: Uint8Array; header: ClipHeader }> {
  const asm = new ClipAssembler(opts.header, opts.recipients, opts.signer);
  const body = asm.push(opts.ogg);
  const { tail, header } = asm.finish();
  const { header: ageHeader, fileKey } = await createAgeHeader(opts.recipients);
  return { sealed: assembleAgeFile(ageHeader, fileKey, concatBytes([body, tail])), header };
}

export async function sealClip(opts: SealClipOptions): Promise<Uint8Array> {
  return (await sealClipWithHeader(opts)).sealed;
}
