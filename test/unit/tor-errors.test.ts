// The reason a TorExitedError gives comes from tor's own lines: the specific warning, not tor's
// generic closing line nor start-up noise. Lines below are as tor 0.4.9.11 printed them here.
import { describe, expect, it } from 'vitest';
import { TorExitedError, TorPortInUseError } from '../../firmware/tor/errors.js';

describe('TorExitedError message', () => {
  it('names the bind failure, not "see warnings above"', () => {
    const err = new TorPortInUseError('127.0.0.1:9050', 1, null, [
      'Could not bind to 127.0.0.1:9050: Address already in use. Is Tor already running?',
      'Failed to parse/validate config: Failed to bind one of the listener ports.',
      'Reading config failed--see warnings above.',
    ]);
    expect(err.message).toBe('tor exited with code 1: Could not bind to 127.0.0.1:9050: Address already in use. Is Tor already running?');
    expect(err).toBeInstanceOf(TorExitedError);
  });

  it('unwraps "Failed to parse/validate config:" to the option tor disliked', () => {
    const err = new TorExitedError(1, null, [
      "Failed to parse/validate config: Unknown option 'NoSuchOption'.  Failing.",
      'Reading config failed--see warnings above.',
    ]);
    expect(err.message).toBe("tor exited with code 1: Unknown option 'NoSuchOption'.");
  });

  it('ignores the running-as-root warning and reports a signal death plainly', () => {
    expect(new TorExitedError(null, 'SIGKILL', ["You are running Tor as root. You don't need to, and you probably shouldn't."]).message).toBe(
      'tor exited on signal SIGKILL',
    );
    expect(new TorExitedError(0, null, []).message).toBe('tor exited with code 0');
  });
});
