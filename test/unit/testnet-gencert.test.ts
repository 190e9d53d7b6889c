// Parsing what tor-gencert and tor --list-fingerprint write (recorded from tor 0.4.9.11), and
// refusing anything else with a KeyGenerationError.
import { describe, expect, test } from 'vitest';
import { KeyGenerationError, parseCertificateFingerprint, parseFingerprintLine } from '../../scripts/testnet/gencert.js';

const cert = `dir-key-certificate-version 3
dir-address 127.0.0.1:7001
fingerprint 2C5A8E7D1F3B0A9C4E6D8F0A1B2C3D4E5F607182
dir-key-published 2026-11-24 19:50:46
-----BEGIN ID SIGNATURE-----
`;

describe('key material parsing', () => {
  test('certificate fingerprint line', () => {
    expect(parseCertificateFingerprint(cert)).toBe('2C5A8E7D1F3B0A9C4E6D8F0A1B2C3D4E5F607182');
    expect(parseCertificateFingerprint(cert.toLowerCase().replace('fingerprint', 'fingerprint'))).toBe('2C5A8E7D1F3B0A9C4E6D8F0A1B2C3D4E5F607182');
  });

  test.each([
    ['', 'empty'],
    ['fingerprint 2C5A', 'too short'],
    ['fingerprint ZZ5A8E7D1F3B0A9C4E6D8F0A1B2C3D4E5F607182', 'not hex'],
    ['  fingerprint 2C5A8E7D1F3B0A9C4E6D8F0A1B2C3D4E5F607182', 'indented'],
  ])('certificate without a usable fingerprint (%j, %s) is refused', (text) => {
    expect(() => parseCertificateFingerprint(text, 'cert')).toThrow(KeyGenerationError);
  });

  test('router fingerprint file and --list-fingerprint output with warnings before it', () => {
    expect(parseFingerprintLine('Unnamed 5F56 3150 C2F6 16B6 A0CA 7FC8 0AA7 3F66 F635 3981\n')).toBe('5F563150C2F616B6A0CA7FC80AA73F66F6353981');
    const stdout = 'Nov 24 19:50:46.249 [warn] You are running Tor as root.\ntest000a 5F56 3150 C2F6 16B6 A0CA 7FC8 0AA7 3F66 F635 3981';
    expect(parseFingerprintLine(stdout)).toBe('5F563150C2F616B6A0CA7FC80AA73F66F6353981');
  });

  test.each([
    [''],
    ['Unnamed'],
    ['Unnamed 5F56 3150 C2F6 16B6 A0CA 7FC8 0AA7 3F66 F635'],
    ['Unnamed 5f56 3150 c2f6 16b6 a0ca 7fc8 0aa7 3f66 f635 3981'],
    ['Unnamed 5F56 3150 C2F6 16B6 A0CA 7FC8 0AA7 3F66 F635 3981 0000'],
  ])('fingerprint text %j is refused', (text) => {
    expect(() => parseFingerprintLine(text)).toThrow(/no fingerprint line/);
  });
});
