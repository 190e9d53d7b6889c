// Tokenises the text of a control reply or event line into positional words and KEY=VALUE pairs,
// with QuotedString values unescaped (control-spec §2.1: "\" escapes, C-style \n \t \r and octal).
// Used for PROTOCOLINFO, STATUS_CLIENT and HS_DESC lines.
import { ControlProtocolError } from './errors.js';

export interface Keywords {
  positional: string[];
  values: Map<string, string>;
}

export function parseKeywords(text: string): Keywords {
  const positional: string[] = [];
  const values = new Map<string, string>();
  let i = 0;
  while (i < text.length) {
    if (text[i] === ' ') {
      i++;
      continue;
    }
    const keyMatch = /^([A-Za-z0-9_/.-]+)=/.exec(text.slice(i));
    if (!keyMatch) {
      const space = text.indexOf(' ', i);
      const end = space < 0 ? text.length : space;
      if (text[i] === '"') {
        const { value, next } = readQuoted(text, i);
        positional.push(value);
        i = next;
      } else {
        positional.push(text.slice(i, end));
        i = end;
      }
      continue;
    }
    const key = keyMatch[1] as string;
    i += keyMatch[0].length;
    if (text[i] === '"') {
      const { value, next } = readQuoted(text, i);
      values.set(key, value);
      i = next;
    } else {
      const space = text.indexOf(' ', i);
      const end = space < 0 ? text.length : space;
      values.set(key, text.slice(i, end));
      i = end;
    }
  }
  return { positional, values };
}

function readQuoted(text: string, open: number): { value: string; next: number } {
  let out = '';
  let i = open + 1;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '"') return { value: out, next: i + 1 };
    if (c !== '\\') {
      out += c;
      i++;
      continue;
    }
    const n = text[i + 1];
    if (n === undefined) break;
    const octal = /^[0-7]{1,3}/.exec(text.slice(i + 1, i + 4));
    if (octal) {
      out += String.fromCharCode(parseInt(octal[0], 8));
      i += 1 + octal[0].length;
      continue;
    }
    out += n === 'n' ? '\n' : n === 't' ? '\t' : n === 'r' ? '\r' : n;
    i += 2;
  }
  throw new ControlProtocolError(`unterminated quoted string in control reply: ${JSON.stringify(text.slice(0, 80))}`);
}

/** Quotes a value for a control command argument (e.g. a file path). */
export function quoteControlString(value: string): string {
  if (/[\r\n\0]/.test(value)) throw new TypeError('control-port strings cannot contain CR, LF or NUL');
  return `"${value.replace(/["\\]/g, (m) => `\\${m}`)}"`;
}
