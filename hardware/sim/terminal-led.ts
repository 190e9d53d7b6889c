// The status LED drawn on a terminal line for laptop mode: "● connected" when lit, "○ connected"
// when dark. On a terminal it redraws one line in place; into a pipe or file it writes one line per
// pattern change, because a line per blink would flood a log.
import { RecordingLed, type RecordingLedOptions } from './recording-led.js';

export interface LedOutput {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface TerminalLedOptions extends RecordingLedOptions {
  /** Default process.stdout. */
  output?: LedOutput;
  /** ANSI colour for the lit dot; default on when the output is a terminal. */
  color?: boolean;
}

const CLEAR_LINE = '\r\u001b[2K';
const GREEN = '\u001b[32m';
const RESET = '\u001b[0m';

export class TerminalLed extends RecordingLed {
  readonly #output: LedOutput;
  readonly #tty: boolean;
  readonly #color: boolean;
  #lastLine: string | undefined;
  #lastPattern: string | undefined;

  constructor(options: TerminalLedOptions = {}) {
    super(options);
    this.#output = options.output ?? process.stdout;
    this.#tty = this.#output.isTTY === true;
    this.#color = options.color ?? this.#tty;
  }

  /** The text of the LED line as it is now, without terminal control codes. */
  line(): string {
    const dot = this.on ? '●' : '○';
    return this.pattern === undefined ? dot : `${dot} ${this.pattern}`;
  }

  protected override changed(): void {
    if (this.#tty) {
      const text = this.line();
      const dot = this.on && this.#color ? `${GREEN}●${RESET}` : text.slice(0, 1);
      const drawn = dot + text.slice(1);
      if (drawn !== this.#lastLine) {
        this.#lastLine = drawn;
        this.#output.write(CLEAR_LINE + drawn);
      }
      if (this.closed) this.#output.write('\n'); // leave the shell prompt a clean line
      return;
    }
    if (!this.closed && this.pattern !== undefined && this.pattern !== this.#lastPattern) {
      this.#lastPattern = this.pattern;
      this.#output.write(`led: ${this.pattern}\n`);
    }
  }
}
