// The contact card: one line a user can paste, print or show as a QR code.
//   torlk:1?n=<name>&o=<onion, 56 chars>&a=<age1...>&s=<ed25519, base64url>&c=<client-auth, base32>&x=<checksum>
// The checksum (first 4 bytes of SHA-256 over everything before "&x=", hex) catches a mistyped or
// cut card before any field is looked at, so the user hears "copy it again", not a riddle.
import { createHash } from 'node:crypto';
import type { Contact } from './contact.js';
import { isOnionV3 } from './onion-address.js';

export const CARD_VERSION = 1;
const PREFIX = `torlk:${CARD_VERSION}?`;

export type CardField = 'format' | 'version' | 'checksum' | 'name' | 'onion' | 'age' | 'signing-key' | 'client-auth';

export class ContactCardError extends Error {
  override readonly name = 'ContactCardError';
  constructor(readonly field: CardField, message: string) {
    super(`contact card: ${message}`);
  }
}

export const CONTACT_NAME = /^[^\p{Cc}\p{Cs}]{1,64}$/u;
const AGE = /^age1[02-9ac-hj-np-z]{58}$/;
const SIGNING = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/; // 32 bytes: the last char carries 2 zero bits
const CLIENT_AUTH = /^[A-Z2-7]{51}[AQ]$/; // 32 bytes in base32: the last char carries 4 zero bits

function checksum(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/** Throws ContactCardError naming the first bad field. */
export function checkContact(c: Contact): void {
  if (!CONTACT_NAME.test(c.name) || c.name.trim() !== c.name) throw new ContactCardError('name', `name ${JSON.stringify(c.name)} must be 1–64 printable characters without outer spaces`);
  if (!isOnionV3(c.onion)) throw new ContactCardError('onion', `"${c.onion}" is not a v3 onion address (56 characters + .onion, valid checksum)`);
  if (!AGE.test(c.ageRecipient)) throw new ContactCardError('age', `"${c.ageRecipient}" is not an age X25519 recipient (age1...)`);
  if (!SIGNING.test(c.signingKey)) throw new ContactCardError('signing-key', `"${c.signingKey}" is not an Ed25519 public key in base64url`);
  if (!CLIENT_AUTH.test(c.clientAuthKey)) throw new ContactCardError('client-auth', `"${c.clientAuthKey}" is not an x25519 client-auth key (52 base32 characters)`);
}

export function encodeContactCard(c: Contact): string {
  checkContact(c);
  const onion = c.onion.toLowerCase().replace(/\.onion$/, '');
  const body = `${PREFIX}n=${encodeURIComponent(c.name)}&o=${onion}&a=${c.ageRecipient}&s=${c.signingKey}&c=${c.clientAuthKey}`;
  return `${body}&x=${checksum(body)}`;
}

export function parseContactCard(card: string): Contact {
  const text = card.trim();
  const m = /^torlk:(\d+)\?/i.exec(text);
  if (!m) throw new ContactCardError('format', 'does not start with "torlk:"; paste the whole card line');
  if (m[1] !== String(CARD_VERSION)) throw new ContactCardError('version', `card version ${m[1]} is not supported (this firmware reads version ${CARD_VERSION}); update the firmware`);
  const at = text.lastIndexOf('&x=');
  if (at < 0) throw new ContactCardError('checksum', 'has no checksum ("&x=..."); the card was cut, copy it again');
  if (checksum(text.slice(0, at)) !== text.slice(at + 3)) throw new ContactCardError('checksum', 'checksum does not match: the card was mistyped or changed, copy it again');
  const params = new Map<string, string>();
  for (const pair of text.slice(m[0].length, at).split('&')) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (params.has(key)) throw new ContactCardError('format', `field "${key}" appears twice`);
    params.set(key, eq < 0 ? '' : pair.slice(eq + 1));
  }
  const need = (key: string, field: CardField): string => {
    const v = params.get(key);
    if (v === undefined) throw new ContactCardError(field, `field "${key}" is missing`);
    return v;
  };
  let name: string;
  try {
    name = decodeURIComponent(need('n', 'name'));
  } catch {
    throw new ContactCardError('name', 'name is not valid percent-encoded UTF-8');
  }
  const contact: Contact = {
    name,
    onion: `${need('o', 'onion')}.onion`,
    ageRecipient: need('a', 'age'),
    signingKey: need('s', 'signing-key'),
    clientAuthKey: need('c', 'client-auth'),
  };
  checkContact(contact);
  return contact;
}
