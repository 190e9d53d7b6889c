// A problem in torlk.toml, with the file and (when known) the line, the way editors and compilers
// report them: "torlk.toml:12: [[contact]] #2: card checksum does not match".
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly path: string,
    readonly line: number | undefined,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${path}${line === undefined ? '' : `:${line}`}: ${detail}`, options);
  }
}
