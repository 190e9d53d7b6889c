// Values the bundler writes in (scripts/build.mjs). Running from source (tests), they fall back to
// the package version and the Unix epoch, so the clock check never blocks a test.
declare const TORLK_VERSION: string | undefined;
declare const TORLK_BUILD_TIME: string | undefined;

export const version: string = typeof TORLK_VERSION === 'string' ? TORLK_VERSION : '0.0.0-source';
export const buildTime: Date = new Date(typeof TORLK_BUILD_TIME === 'string' ? TORLK_BUILD_TIME : 0);
