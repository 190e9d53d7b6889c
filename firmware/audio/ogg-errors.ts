// Typed errors for the Ogg Opus container. A reader error names what is wrong and where (byte
// offset in the stream), so a corrupt clip can be reported and dropped without guessing.

/** What a malformed Ogg Opus stream got wrong; one value per class of defect. */
export type OggProblem =
  | 'capture-pattern' // a page does not start with "OggS"
  | 'version' // Ogg stream structure version is not 0
  | 'flags' // unknown header-type bits
  | 'crc' // page checksum mismatch
  | 'truncated' // input ended inside a page, a packet or before end of stream
  | 'sequence' // page sequence numbers not consecutive (a lost or repeated page)
  | 'stream-structure' // BOS/EOS/serial/continuation rules of RFC 3533 broken
  | 'chained' // a new stream begins after data pages (chaining is not supported)
  | 'no-opus-stream' // no logical stream starts with OpusHead
  | 'opus-head' // OpusHead invalid or unsupported
  | 'opus-tags' // OpusTags invalid
  | 'opus-packet' // an audio packet is not a valid Opus packet
  | 'granule' // granule positions inconsistent with the packets (RFC 7845 section 4)
  | 'too-large'; // a packet, stream count or buffered data exceeds the configured limit

export class OggFormatError extends Error {
  override readonly name = 'OggFormatError';
  constructor(
    readonly problem: OggProblem,
    detail: string,
    /** Byte offset in the whole stream where the defect was found, when known. */
    readonly offset?: number,
  ) {
    super(`malformed Ogg Opus (${problem}): ${detail}${offset === undefined ? '' : ` at byte ${offset}`}`);
  }
}

/** The writer was used wrongly (bad option, invalid packet, end() twice, ...): a caller bug. */
export class OggWriterError extends Error {
  override readonly name = 'OggWriterError';
}
