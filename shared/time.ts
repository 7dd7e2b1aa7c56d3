/**
 * RFC 3339 date-times as instants. Times are compared as milliseconds since the epoch, never as
 * strings: `2026-11-23T01:30:00+09:00` is 16:30Z and sorts after `2026-11-22T17:00:00Z` as text.
 */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

const leap = (y: number) => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
const daysIn = (y: number, m: number) => (m === 2 ? (leap(y) ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31);

/**
 * Milliseconds since the epoch for an RFC 3339 date-time with any offset (`Z`, `z`, `+09:00`,
 * `-00:00`; `T`, `t` or a space between date and time), or null when it is not one. Digits past
 * milliseconds are dropped, as Date.parse does.
 */
export function rfc3339Ms(s: string): number | null {
  const m = RFC3339.exec(s);
  if (!m) return null;
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || sec > 60) return null;
  let offsetMin = 0;
  if (!m[8]) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return null;
    offsetMin = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const ms = Number((m[7] ?? '').slice(0, 3).padEnd(3, '0'));
  const t = new Date(Date.UTC(2000, mo - 1, d, h, mi, sec, ms));
  t.setUTCFullYear(y, mo - 1, d);
  return t.getTime() - offsetMin * 60_000;
}
