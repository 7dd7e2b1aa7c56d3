import type { HubEvent } from '../../shared/events.ts';
import { describeEvent } from '../stream/describe.ts';

/** One event per line, oldest first: what `jq`, `grep` and a re-publish script expect. */
export function toNdjson(evs: readonly HubEvent[]): string {
  return evs.map((e) => JSON.stringify(e)).join('\n') + (evs.length ? '\n' : '');
}

export const CSV_COLUMNS = ['seq', 'id', 'type', 'time', 'received_at', 'priority', 'store_id', 'user_id', 'strategy_id', 'tenant_id', 'topics', 'summary', 'data'] as const;

/** RFC 4180 quoting; a leading = + - @ is prefixed with ' so a spreadsheet never runs it as a formula. */
export function csvCell(v: unknown): string {
  let s = v === null || v === undefined ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(evs: readonly HubEvent[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const e of evs)
    lines.push(
      [e.seq, e.id, e.type, e.time, e.received_at, e.priority, e.store_id, e.user_id, e.strategy_id, e.tenant_id, e.topics ? JSON.stringify(e.topics) : '', describeEvent(e), JSON.stringify(e.data)].map(csvCell).join(','),
    );
  return lines.join('\r\n') + '\r\n';
}

export function download(name: string, mime: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: mime }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
