// ALSA config fragments for the simulated mic and speaker, and the mapping of addon failures to errors.
import { describe, expect, it } from 'vitest';
import { fileCaptureConfig, filePlaybackConfig } from '../../hardware/i2s-audio/alsa-config.js';
import { AudioDeviceError, AudioOptionError, MicrophoneError, SpeakerError, toAudioError } from '../../hardware/i2s-audio/errors.js';

describe('fileCaptureConfig / filePlaybackConfig', () => {
  it('defines a file PCM over its own null slave, copying to /dev/null by default', () => {
    const c = fileCaptureConfig({ name: 'mic', infile: '/tmp/a.raw' });
    expect(c).toContain('pcm.mic {');
    expect(c).toContain('slave.pcm "mic_null"');
    expect(c).toContain('file "/dev/null"');
    expect(c).toContain('infile "/tmp/a.raw"');
    expect(c).toContain('pcm.mic_null { type null }');
    expect(fileCaptureConfig({ name: 'mic', infile: '/a', copyTo: '/tmp/f' })).toContain('file "/tmp/f"');
    expect(filePlaybackConfig({ name: 'spk', outfile: '/tmp/o_%r.raw' })).toContain('file "/tmp/o_%r.raw"');
  });

  it('escapes quotes and backslashes in paths', () => {
    expect(fileCaptureConfig({ name: 'm', infile: '/tmp/a "b"\\c' })).toContain('infile "/tmp/a \\"b\\"\\\\c"');
  });

  it('rejects PCM names that are not identifiers and paths with newlines', () => {
    expect(() => fileCaptureConfig({ name: 'm ic', infile: '/a' })).toThrow(AudioOptionError);
    expect(() => fileCaptureConfig({ name: '', infile: '/a' })).toThrow(AudioOptionError);
    expect(() => filePlaybackConfig({ name: 'x}y', outfile: '/a' })).toThrow(AudioOptionError);
    expect(() => filePlaybackConfig({ name: 'spk', outfile: '/a\npcm.evil {}' })).toThrow(/not usable/);
  });
});

describe('toAudioError', () => {
  it('keeps the code, device, errno and ALSA message the addon reported', () => {
    const e = toAudioError(MicrophoneError, 'hw:1', { code: 'missing', message: 'ALSA device "hw:1": cannot open: No such file or directory', errno: -2, alsaMessage: 'No such file or directory' });
    expect(e).toBeInstanceOf(MicrophoneError);
    expect(e).toBeInstanceOf(AudioDeviceError);
    const d = e as MicrophoneError;
    expect(d.code).toBe('missing');
    expect(d.device).toBe('hw:1');
    expect(d.errno).toBe(-2);
    expect(d.alsaMessage).toBe('No such file or directory');
    expect(d.message).toContain('hw:1');
  });

  it('turns argument errors into AudioOptionError and unknown failures into state errors', () => {
    expect(toAudioError(SpeakerError, 'x', new RangeError('channels must be 1 or 2'))).toBeInstanceOf(AudioOptionError);
    const e = toAudioError(SpeakerError, 'x', new Error('weird')) as SpeakerError;
    expect(e).toBeInstanceOf(SpeakerError);
    expect(e.code).toBe('state');
    expect(toAudioError(SpeakerError, 'x', { code: 'no-such-code', message: 'm' })).toMatchObject({ code: 'state' });
  });
});
