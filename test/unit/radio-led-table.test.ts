// The README's LED table is generated from the pattern data; check that it shows every pattern.
import { describe, expect, it } from 'vitest';
import { ledPatterns, ledPriority } from '../../firmware/radio/led-patterns.js';
import { LedTableMarkersError, describeSteps, ledTableEnd, ledTableStart, renderLedTable, syncLedTable } from '../../firmware/radio/led-table.js';

describe('LED table', () => {
  const table = renderLedTable();
  const rows = table.split('\n').filter((l) => /^\| \d+ \|/.test(l));

  it('has one row per pattern, in priority order, with its meaning and timing', () => {
    expect(rows).toHaveLength(Object.keys(ledPatterns).length);
    ledPriority.forEach((name, i) => {
      const row = rows[i]!;
      expect(row.startsWith(`| ${i + 1} | \`${name}\` |`)).toBe(true);
      expect(row).toContain(ledPatterns[name].meaning);
      expect(row).toContain(ledPatterns[name].looksLike);
      expect(row).toContain(describeSteps(ledPatterns[name]));
    });
  });

  it('writes timings people can read', () => {
    expect(describeSteps(ledPatterns.recording)).toBe('steady on');
    expect(describeSteps(ledPatterns.fault)).toBe('(60 on, 60 off) ×4, 60 on, 1000 off, repeat');
    expect(describeSteps(ledPatterns.delivered)).toBe('1200 on, 300 off, once');
    expect(describeSteps(ledPatterns.torError)).toBe('150 on, 150 off, 150 on, 1550 off, repeat');
  });

  it('is valid markdown table syntax: every row has the header\'s column count', () => {
    const lines = table.split('\n').filter((l) => l.startsWith('|'));
    const columns = (l: string) => l.replace(/\\\|/g, '').split('|').length;
    for (const l of lines) expect(columns(l)).toBe(columns(lines[0]!));
  });

  it('replaces the section between the README markers, idempotently', () => {
    const doc = `# Torlk\n\n## The LED\n${ledTableStart}\nold table\n${ledTableEnd}\n\nMore text.\n`;
    const once = syncLedTable(doc);
    expect(once).toContain(table);
    expect(once).not.toContain('old table');
    expect(once.endsWith(`${ledTableEnd}\n\nMore text.\n`)).toBe(true);
    expect(syncLedTable(once)).toBe(once);
  });

  it('refuses documents with missing, reversed or doubled markers', () => {
    expect(() => syncLedTable('no markers')).toThrow(LedTableMarkersError);
    expect(() => syncLedTable(`${ledTableEnd}\n${ledTableStart}`)).toThrow('end marker before start marker');
    expect(() => syncLedTable(`${ledTableStart}${ledTableStart}${ledTableEnd}`)).toThrow('start marker appears twice');
  });
});
