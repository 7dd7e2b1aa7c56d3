import type { FieldError } from '../../../shared/events.ts';

/**
 * JSON.parse turns every number into a 64-bit float, so `1e400` becomes Infinity (stored as null)
 * and 9007199254740993 becomes …992. The hub stores what it parsed, so a number the float cannot
 * hold exactly would be changed after a 201. This check reads the raw text instead: every number
 * token is compared, as a decimal value, with what the parsed float serialises back to, and a
 * difference is refused with the token's path. `1.0`, `1e2` and `-0` pass (the same value written
 * differently); `0.1000000000000000055` does not (the float is 0.1).
 *
 * It also finds `__proto__` keys (in any spelling, `"\u005f_proto__"` included), which must never
 * reach object spreads.
 *
 * A fast pass with one regex over the text finds whether anything is wrong at all; only then does a
 * second pass walk the structure to name the paths. Run it on text JSON.parse has accepted.
 */

const TOKENS = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;
const NUMBER = /^-?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;
const WS = /[ \t\n\r]/;

const MAX_PROBLEMS = 100;

/** A decimal number as `[-]digits e exponent` with no leading or trailing zeros ("0" for zero). */
function decimalKey(tok: string): string {
  const m = NUMBER.exec(tok);
  if (!m) return tok;
  const frac = m[2] ?? '';
  let digits = (m[1]! + frac).replace(/^0+/, '');
  if (digits === '') return '0';
  let exp = BigInt(m[3] ?? 0) - BigInt(frac.length);
  const kept = digits.replace(/0+$/, '');
  exp += BigInt(digits.length - kept.length);
  digits = kept;
  return `${tok.startsWith('-') ? '-' : ''}${digits}e${exp}`;
}

/** Why a number token cannot be kept exactly, or null when its float reads back as the same value. */
function inexactNumber(tok: string): string | null {
  const n = Number(tok);
  if (!Number.isFinite(n)) return `number ${clip(tok)} is beyond the range of a 64-bit float; send it as a string`;
  const back = String(n);
  if (back === tok || decimalKey(back) === decimalKey(tok)) return null;
  return `number ${clip(tok)} cannot be stored exactly (it would read back as ${back}); send it as a string`;
}

const clip = (s: string) => (s.length > 40 ? `${s.slice(0, 37)}...` : s);

const isProtoKey = (tok: string) => (tok.includes('__proto__') || tok.includes('\\u')) && JSON.parse(tok) === '__proto__';

function nextNonSpace(text: string, from: number): string {
  let i = from;
  while (i < text.length && WS.test(text[i]!)) i++;
  return text[i] ?? '';
}

/** Does the fast pass see anything to refuse? */
function suspicious(text: string): boolean {
  TOKENS.lastIndex = 0;
  for (let m = TOKENS.exec(text); m; m = TOKENS.exec(text)) {
    const tok = m[0];
    if (tok.charCodeAt(0) === 34 /* " */) {
      if (isProtoKey(tok) && nextNonSpace(text, TOKENS.lastIndex) === ':') return true;
    } else if (inexactNumber(tok)) return true;
  }
  return false;
}

interface Frame {
  array: boolean;
  key: string | number;
  /** In an object: the next string is a key. */
  expectKey: boolean;
}

/** The second pass: walk the structure and name every problem's path. */
function locate(text: string, base: string[]): FieldError[] {
  const problems: FieldError[] = [];
  const stack: Frame[] = [];
  const path = (extra?: string) => [...base, ...stack.map((f) => String(f.key)), ...(extra !== undefined ? [extra] : [])].join('.') || 'body';
  let i = 0;
  while (i < text.length && problems.length < MAX_PROBLEMS) {
    const c = text[i]!;
    if (c === '{' || c === '[') {
      stack.push({ array: c === '[', key: c === '[' ? 0 : '', expectKey: c === '{' });
      i++;
    } else if (c === '}' || c === ']') {
      stack.pop();
      i++;
    } else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top?.array) top.key = (top.key as number) + 1;
      else if (top) top.expectKey = true;
      i++;
    } else if (c === '"') {
      TOKENS.lastIndex = i;
      const tok = TOKENS.exec(text)![0];
      i += tok.length;
      const top = stack[stack.length - 1];
      if (top && !top.array && top.expectKey) {
        const key = JSON.parse(tok) as string;
        top.key = key;
        top.expectKey = false;
        if (key === '__proto__') problems.push({ path: path(), reason: 'a key named "__proto__" is not allowed (it would set an object\'s prototype)' });
      }
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      TOKENS.lastIndex = i;
      const tok = TOKENS.exec(text)![0];
      i += tok.length;
      const why = inexactNumber(tok);
      if (why) problems.push({ path: path(), reason: why });
    } else i++;
  }
  return problems;
}

/**
 * What in `text` (valid JSON) cannot be stored exactly or must not be stored at all, each with its
 * path under `base` (e.g. the event's index in an NDJSON body); empty when all is well.
 */
export function fidelityProblems(text: string, base: string[] = []): FieldError[] {
  return suspicious(text) ? locate(text, base) : [];
}
