// ALSA configuration fragments for simulated audio: alsa-lib's `file` plugin over a `null` slave.
// A capture PCM reads raw samples from `infile` (a WAV header would be read as samples); a playback
// PCM writes raw samples to `file`. Passed to the addon and opened with snd_pcm_open_lconf, so nothing
// touches ~/.asoundrc or ALSA_CONFIG_PATH.
import { AudioOptionError } from './errors.js';

const pcmName = /^[A-Za-z][A-Za-z0-9_]*$/;

/** ALSA config strings are double-quoted with backslash escapes. */
function quote(value: string): string {
  if (value.includes('\n') || value.includes('\0')) throw new AudioOptionError(`path not usable in an ALSA config: ${JSON.stringify(value)}`);
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function checkName(name: string): void {
  if (!pcmName.test(name)) throw new AudioOptionError(`ALSA PCM name must be letters, digits and _ (got ${JSON.stringify(name)})`);
}

export interface FileCaptureConfig {
  /** PCM name to open (the `device` option). */
  name: string;
  /** Raw interleaved samples in the capture format (S16_LE or S32_LE, no header). */
  infile: string;
  /**
   * Where the plugin copies what was read (the plugin requires one). Default /dev/null. Pointing it at
   * a FIFO makes the PCM fail mid-stream with EIO when the FIFO's reader goes away: the tests' unplug.
   */
  copyTo?: string;
}

export function fileCaptureConfig(c: FileCaptureConfig): string {
  checkName(c.name);
  const slave = `${c.name}_null`;
  return [
    `pcm.${c.name} {`,
    '  type file',
    `  slave.pcm "${slave}"`,
    `  file ${quote(c.copyTo ?? '/dev/null')}`,
    `  infile ${quote(c.infile)}`,
    '  format "raw"',
    '}',
    `pcm.${slave} { type null }`,
    '',
  ].join('\n');
}

export interface FilePlaybackConfig {
  name: string;
  /** Raw output file; `%r` and `%c` expand to rate and channels. Created with mode 0600. */
  outfile: string;
}

export function filePlaybackConfig(c: FilePlaybackConfig): string {
  checkName(c.name);
  const slave = `${c.name}_null`;
  return [`pcm.${c.name} {`, '  type file', `  slave.pcm "${slave}"`, `  file ${quote(c.outfile)}`, '  format "raw"', '}', `pcm.${slave} { type null }`, ''].join('\n');
}
