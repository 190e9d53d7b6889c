// The status LED, as the firmware sees it: one light, on or off. Patterns (blink codes) are data
// in firmware/radio; a player turns them into writes. Types only.

export interface Led {
  /** Lights (true) or darkens (false) the LED. Must be cheap: the pattern player calls it often. */
  write(on: boolean): void;
  /**
   * Optional hint naming the pattern now shown ("connected", "recording", ...). Real LEDs ignore it;
   * simulated LEDs print it so a person watching the terminal knows what the blinking means.
   */
  describe?(pattern: string): void;
  /** Darkens and releases the pin. Idempotent. */
  close(): Promise<void>;
}
