// Renders the README's LED table from the pattern data, so the documentation cannot drift from
// what the LED really does: the README section between the markers below is regenerated from it
// (syncLedTable), and test/unit/radio-led-table.test.ts checks the table covers every pattern.
import { ledPatterns, ledPriority, type LedPattern, type LedStep } from './led-patterns.js';

function stepText(step: LedStep): string {
  return `${step.ms} ${step.on ? 'on' : 'off'}`;
}

/** "on 150, off 150, on 150, off 1550" with runs of an identical on/off pair folded into "(…) ×n". */
export function describeSteps(pattern: LedPattern): string {
  const steps = pattern.steps;
  if (steps.every((s) => s.on === steps[0]?.on)) return steps[0]?.on ? 'steady on' : 'steady off';
  const parts: string[] = [];
  let i = 0;
  while (i < steps.length) {
    const a = steps[i];
    const b = steps[i + 1];
    let runs = 1;
    if (a && b) {
      while (steps[i + 2 * runs]?.on === a.on && steps[i + 2 * runs]?.ms === a.ms && steps[i + 2 * runs + 1]?.on === b.on && steps[i + 2 * runs + 1]?.ms === b.ms) runs++;
    }
    if (a && b && runs > 1) {
      parts.push(`(${stepText(a)}, ${stepText(b)}) ×${runs}`);
      i += 2 * runs;
    } else if (a) {
      parts.push(stepText(a));
      i += 1;
    }
  }
  return parts.join(', ') + (pattern.repeat ? ', repeat' : ', once');
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** The LED table as GitHub-flavoured markdown, highest priority first. */
export function renderLedTable(): string {
  const rows = ledPriority.map((name, i) => {
    const p = ledPatterns[name];
    return `| ${i + 1} | \`${p.name}\` | ${cell(p.looksLike)} | ${cell(p.meaning)} | ${describeSteps(p)} |`;
  });
  return [
    '| Priority | Pattern | Looks like | Meaning | Timing (ms) |',
    '|---:|---|---|---|---|',
    ...rows,
    '',
    'When several situations hold at once, the LED shows the one with the lowest priority number.',
  ].join('\n');
}

export const ledTableStart = '<!-- led-table:start (generated from firmware/radio/led-patterns.ts) -->';
export const ledTableEnd = '<!-- led-table:end -->';

/** A markdown document whose LED-table markers are missing or out of order. */
export class LedTableMarkersError extends Error {
  override readonly name = 'LedTableMarkersError';
  constructor(readonly problem: string) {
    super(`cannot place the LED table: ${problem} (expected "${ledTableStart}" … "${ledTableEnd}")`);
  }
}

/** Replaces whatever sits between the markers with the current table. */
export function syncLedTable(markdown: string): string {
  const start = markdown.indexOf(ledTableStart);
  const end = markdown.indexOf(ledTableEnd);
  if (start < 0 || end < 0) throw new LedTableMarkersError('markers missing');
  if (end < start) throw new LedTableMarkersError('end marker before start marker');
  if (markdown.indexOf(ledTableStart, start + 1) >= 0) throw new LedTableMarkersError('start marker appears twice');
  return `${markdown.slice(0, start + ledTableStart.length)}\n${renderLedTable()}\n${markdown.slice(end)}`;
}
