// A contact: another radio this device talks to. Types only (parsing lives in contact-card.ts).

export interface Contact {
  /** Human name from the card or the config file (1–64 chars, no control characters). */
  readonly name: string;
  /** v3 onion address, 56 base32 chars followed by ".onion". */
  readonly onion: string;
  /** age X25519 recipient (`age1...`): clips to this contact are encrypted to it. */
  readonly ageRecipient: string;
  /** Ed25519 signing public key, base64url without padding (43 chars): verifies their clips. */
  readonly signingKey: string;
  /**
   * x25519 client-auth public key the contact's device presents to our onion service, in tor's
   * base32 form (52 chars): goes into our service's authorized clients.
   */
  readonly clientAuthKey: string;
}
