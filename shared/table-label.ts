/**
 * The label of a table as staff say it. Backends send either an id ("2", 2) or a label that already
 * reads as one ("Table 2", "Terrace 4", "Bar"); only a bare id gets the word "Table" in front, so a
 * label is never doubled into "Table Table 2".
 */
export function tableLabel(d: { table_label?: unknown; table_id?: unknown }): string | null {
  const raw = d.table_label ?? d.table_id;
  if (raw === undefined || raw === null || raw === '') return null;
  const text = String(raw).trim();
  // A bare id: digits, or a short code like "A12" / "12b" without spaces.
  return /^[\p{L}]{0,2}\d+[\p{L}]?$/u.test(text) ? `Table ${text}` : text;
}
