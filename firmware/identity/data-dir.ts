// Where the device keeps its keys, outbox and inbox. The device image makes /var/lib/torlk
// (writable by the torlk user); a laptop has no such directory, so it uses ~/.torlk.
// Order: --data DIR, then $TORLK_DATA, then /var/lib/torlk if writable, then ~/.torlk.
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const DEVICE_DATA_DIR = '/var/lib/torlk';

export interface DataDirSources {
  readonly flag?: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
  readonly deviceDir?: string;
  readonly home?: string;
}

export function resolveDataDir(sources: DataDirSources = {}): string {
  if (sources.flag) return resolve(sources.flag);
  const env = sources.env ?? process.env;
  if (env.TORLK_DATA) return resolve(env.TORLK_DATA);
  const device = sources.deviceDir ?? DEVICE_DATA_DIR;
  try {
    accessSync(device, constants.W_OK);
    return device;
  } catch {
    return join(sources.home ?? homedir(), '.torlk');
  }
}
