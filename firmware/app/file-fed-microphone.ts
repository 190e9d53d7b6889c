// A simulated microphone whose input is a new raw file for each talk: the demo and the benchmark
// load a phrase, then press. Underneath it is the real i2s-audio addon on an ALSA file PCM
// (hardware/sim/sim-audio.ts), paced in real time; it only adds "which file now", because a file
// PCM opened at radio start would have played its whole input long before anyone pressed.
import type { Microphone, Recording } from '../../hardware/microphone.js';
import type { AlsaMicrophone } from '../../hardware/i2s-audio/alsa-microphone.js';
import { MicrophoneError } from '../../hardware/i2s-audio/errors.js';
import { createSimMicrophone, type SimMicrophoneOptions } from '../../hardware/sim/sim-audio.js';

export class FileFedMicrophone implements Microphone {
  #current: AlsaMicrophone | undefined;
  #unsubscribe: (() => void) | undefined;
  #closed = false;
  readonly #faultListeners = new Set<(err: Error) => void>();

  constructor(private readonly defaults: Omit<SimMicrophoneOptions, 'infile'> = {}) {}

  /** Nothing to open until a file is loaded. */
  async open(): Promise<void> {}

  /**
   * Starts capturing from `infile` (raw S16_LE mono at 16 kHz unless the defaults say otherwise),
   * from its first sample. Resolves once the capture thread runs; the first settleMs (250 ms by
   * default) are dropped, the pre-roll then fills in real time.
   */
  async load(infile: string): Promise<void> {
    if (this.#closed) throw new MicrophoneError('closed', 'the simulated microphone is closed', { device: 'sim_mic' });
    await this.#release();
    const mic = createSimMicrophone({ ...this.defaults, infile });
    this.#unsubscribe = mic.onFault((err) => {
      for (const l of this.#faultListeners) l(err);
    });
    await mic.open();
    this.#current = mic;
  }

  record(): Recording {
    if (!this.#current) throw new MicrophoneError('closed', 'the simulated microphone has no input loaded', { device: 'sim_mic' });
    return this.#current.record();
  }

  onFault(listener: (err: Error) => void): () => void {
    this.#faultListeners.add(listener);
    return () => this.#faultListeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#release();
  }

  async #release(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    const mic = this.#current;
    this.#current = undefined;
    await mic?.close();
  }
}
