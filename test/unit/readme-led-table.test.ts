import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ledPriority } from '../../firmware/radio/led-patterns.js';
import { syncLedTable } from '../../firmware/radio/led-table.js';

// The README's LED table is generated from the pattern data; this fails when either drifts.
describe('README LED table', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  it('is what the pattern data renders', () => {
    expect(syncLedTable(readme)).toBe(readme);
  });
  it('names every pattern', () => {
    for (const name of ledPriority) expect(readme).toContain(`\`${name}\``);
  });
});
