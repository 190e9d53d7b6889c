// How many 48 kHz samples an Opus packet decodes to, from its TOC byte (RFC 6716 section 3.1).
// The Ogg layer needs this to place granule positions without decoding audio.

/** Frame duration in 48 kHz samples for each of the 32 TOC configurations. */
function frameSamples(config: number): number {
  if (config < 12) return [480, 960, 1920, 2880][config % 4]!; // SILK-only: 10, 20, 40, 60 ms
  if (config < 16) return [480, 960][config % 2]!; // hybrid: 10, 20 ms
  return [120, 240, 480, 960][config % 4]!; // CELT-only: 2.5, 5, 10, 20 ms
}

/** Samples at 48 kHz, or a string saying why `packet` is not a valid Opus packet. */
export function opusPacketSamples(packet: Uint8Array): number | string {
  if (packet.length === 0) return 'empty packet (an Opus packet has at least a TOC byte)';
  const toc = packet[0]!;
  const perFrame = frameSamples(toc >> 3);
  let frames: number;
  switch (toc & 0x03) {
    case 0:
      frames = 1;
      break;
    case 1:
      if ((packet.length - 1) % 2 !== 0) return 'code 1 packet with two equal frames has an odd payload length';
      frames = 2;
      break;
    case 2: {
      if (packet.length < 2) return 'code 2 packet without a frame length';
      const first = packet[1]! < 252 ? packet[1]! : packet.length < 3 ? -1 : packet[1]! + 4 * packet[2]!;
      const header = packet[1]! < 252 ? 2 : 3;
      if (first < 0 || header + first > packet.length) return 'code 2 packet whose first frame runs past the end';
      frames = 2;
      break;
    }
    default:
      if (packet.length < 2) return 'code 3 packet without a frame count byte';
      frames = packet[1]! & 0x3f;
      if (frames === 0) return 'code 3 packet with zero frames';
  }
  const samples = frames * perFrame;
  if (samples > 5760) return `packet lasts ${samples / 48} ms, over Opus's 120 ms limit`;
  return samples;
}
