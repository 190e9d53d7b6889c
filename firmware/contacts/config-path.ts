// Where torlk.toml is: --config FILE, then $TORLK_CONFIG, then the SD card's boot partition
// (Debian's raspi-firmware mounts it at /boot/firmware) when it has one, then the data directory.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const BOOT_CONFIG = '/boot/firmware/torlk.toml';

export function resolveConfigPath(dataDir: string, sources: { flag?: string | undefined; env?: NodeJS.ProcessEnv; bootConfig?: string } = {}): string {
  if (sources.flag) return resolve(sources.flag);
  const env = sources.env ?? process.env;
  if (env.TORLK_CONFIG) return resolve(env.TORLK_CONFIG);
  const boot = sources.bootConfig ?? BOOT_CONFIG;
  if (existsSync(boot)) return boot;
  return join(dataDir, 'torlk.toml');
}
