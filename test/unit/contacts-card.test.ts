// Contact cards: round trip, and a clear, field-specific refusal for each way a card goes wrong.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ContactCardError, encodeContactCard, parseContactCard, type CardField } from '../../firmware/contacts/contact-card.js';
import type { Contact } from '../../firmware/contacts/contact.js';
import { isOnionV3, onionAddressFromPublicKey } from '../../firmware/contacts/onion-address.js';
import { ClientAuthKey, OnionKey } from '../../firmware/identity/onion-keys.js';
import { SigningKey } from '../../firmware/identity/signing-key.js';

const alice: Contact = {
  name: 'Alice (kitchen) ✓',
  onion: OnionKey.generate().address,
  ageRecipient: 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p',
  signingKey: SigningKey.generate().id,
  clientAuthKey: ClientAuthKey.generate().publicKey,
};

function field(fn: () => unknown): CardField {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ContactCardError);
    return (err as ContactCardError).field;
  }
  throw new Error('expected a ContactCardError');
}

/** Re-checksums an edited card, so the field check (not the checksum) is what fails. */
function resum(card: string): string {
  const body = card.slice(0, card.lastIndexOf('&x='));
  // Same checksum rule as the module: first 4 bytes of SHA-256 over the body.
  return `${body}&x=${createHash('sha256').update(body).digest('hex').slice(0, 8)}`;
}

describe('contact card', () => {
  it('is one line starting torlk:1? and round-trips', () => {
    const card = encodeContactCard(alice);
    expect(card).toMatch(/^torlk:1\?n=[^\s]+&o=[a-z2-7]{56}&a=age1[a-z0-9]{58}&s=[\w-]{43}&c=[A-Z2-7]{52}&x=[0-9a-f]{8}$/);
    expect(parseContactCard(card)).toEqual(alice);
    expect(parseContactCard(`  ${card}\n`)).toEqual(alice);
  });

  it('any single mistyped character is caught', () => {
    const card = encodeContactCard(alice);
    fc.assert(
      fc.property(fc.nat(card.length - 1), fc.constantFrom(...'abcXYZ0189-_=&?%'), (i, ch) => {
        fc.pre(card[i] !== ch);
        const typo = card.slice(0, i) + ch + card.slice(i + 1);
        expect(() => parseContactCard(typo)).toThrow(ContactCardError);
      }),
      { numRuns: 500 },
    );
  });

  it('says which part is wrong', () => {
    const card = encodeContactCard(alice);
    expect(field(() => parseContactCard('hello'))).toBe('format');
    expect(field(() => parseContactCard(card.replace('torlk:1?', 'torlk:2?')))).toBe('version');
    expect(field(() => parseContactCard(card.slice(0, card.lastIndexOf('&x='))))).toBe('checksum');
    expect(field(() => parseContactCard(card.slice(0, -1)))).toBe('checksum');
    const onion = alice.onion.slice(0, 56);
    const flipped = onion.slice(0, 10) + (onion[10] === 'a' ? 'b' : 'a') + onion.slice(11);
    expect(field(() => parseContactCard(resum(card.replace(onion, flipped))))).toBe('onion');
    expect(field(() => parseContactCard(resum(card.replace(alice.ageRecipient, 'age1short'))))).toBe('age');
    expect(field(() => parseContactCard(resum(card.replace(alice.signingKey, 'nope'))))).toBe('signing-key');
    expect(field(() => parseContactCard(resum(card.replace(alice.clientAuthKey, alice.clientAuthKey.toLowerCase()))))).toBe('client-auth');
    expect(field(() => parseContactCard(resum(card.replace(/n=[^&]*/, 'n=%E0%A4%A'))))).toBe('name');
    expect(field(() => parseContactCard(resum(card.replace(/n=[^&]*/, 'n=')))) ).toBe('name');
    expect(field(() => parseContactCard(resum(card.replace(/&s=[^&]*/, ''))))).toBe('signing-key');
    expect(field(() => parseContactCard(resum(card.replace('&a=', '&n=x&a='))))).toBe('format');
    expect(() => encodeContactCard({ ...alice, name: 'tab\there' })).toThrow(ContactCardError);
  });
});

describe('onion address', () => {
  it('accepts tor\'s own example shape and rejects a bad checksum or version', () => {
    const addr = onionAddressFromPublicKey(new Uint8Array(32).fill(7));
    expect(isOnionV3(addr)).toBe(true);
    expect(isOnionV3(addr.toUpperCase())).toBe(true);
    expect(isOnionV3(addr.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')))).toBe(false);
    expect(isOnionV3('facebookcorewwwi.onion')).toBe(false);
    expect(isOnionV3(addr.replace('.onion', ''))).toBe(false);
  });
});
