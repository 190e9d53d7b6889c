// Two radios that know each other, made from scratch the way users make them: `torlk init` (keys),
// then each adds the other's card on a shared channel. Used by the demo, the e2e test and the bench.
import { join } from 'node:path';
import { appendContact, saveConfigText, setDeviceKey } from '../contacts/config-edit.js';
import { createDeviceIdentity, ownContact, type DeviceIdentity } from '../identity/device-identity.js';

export interface ProvisionedRadio {
  readonly name: string;
  readonly dataDir: string;
  readonly configPath: string;
  readonly identity: DeviceIdentity;
}

export const DEMO_CHANNEL = 'demo';

/** Creates `<dir>/<name>` for each name, every radio a contact of every other one on `channel`. */
export async function provisionRadios(dir: string, names: readonly string[], channel = DEMO_CHANNEL): Promise<ProvisionedRadio[]> {
  const radios: ProvisionedRadio[] = [];
  for (const name of names) {
    const dataDir = join(dir, name);
    const { identity } = await createDeviceIdentity(dataDir);
    radios.push({ name, dataDir, configPath: join(dataDir, 'torlk.toml'), identity });
  }
  for (const me of radios) {
    let text = '';
    for (const other of radios) if (other !== me) text = appendContact(text, me.configPath, ownContact(other.identity, other.name), [channel]);
    text = setDeviceKey(text, me.configPath, 'name', me.name);
    text = setDeviceKey(text, me.configPath, 'channel', channel);
    await saveConfigText(me.configPath, text);
  }
  return radios;
}
