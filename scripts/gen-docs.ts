/**
 * Writes the tables of event types and state kinds in docs/publishing.md from the domain registry,
 * so the docs list exactly what the hub accepts and keeps. `--check` only compares (exit 1 when the
 * checked-in tables are out of date); test/unit/docs-domains.test.ts runs the same comparison.
 *
 *   node bin/run-ts.js scripts/gen-docs.ts [--check]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { builtinRegistry, type DomainRegistry } from '../shared/domains/index.ts';
import type { StateRule } from '../shared/domains/define.ts';

export const DOCS_FILE = resolve(import.meta.dirname, '../docs/publishing.md');
const BEGIN = '<!-- domains:begin (generated from shared/domains by `node bin/run-ts.js scripts/gen-docs.ts`; edit the domain files, not this table) -->';
const END = '<!-- domains:end -->';

const code = (s: string) => `\`${s}\``;

function stateText(rule: StateRule<string>, registry: DomainRegistry, type: string): string {
  if (!rule) return 'none (history only)';
  if (rule.op === 'end_session') return `removes every ${code(rule.kind)} row under its scope keys with the same ${code(rule.match)}`;
  const by = typeof rule.id === 'string' ? `by ${code(rule.id)}` : `by ${rule.idText ?? 'a computed id'}`;
  const verb = { create: 'creates (replaces)', patch: 'patches', delete: 'deletes' }[rule.op];
  const extra = [rule.deleteIf ? 'deletes it when the data says so' : '', registry.startsWholeRow(type) && rule.op !== 'create' ? 'carries the whole row' : '']
    .filter(Boolean)
    .join('; ');
  return `${verb} a ${code(rule.kind)} row ${by}${extra ? `; ${extra}` : ''}`;
}

/** The generated block: one table of types, one of state kinds. */
export function renderDomainDocs(registry: DomainRegistry = builtinRegistry): string {
  const lines = [BEGIN, '', '| type | scope keys required | current state | default priority | toast below the alert threshold |', '| --- | --- | --- | --- | --- |'];
  for (const d of registry.domains) {
    for (const type of Object.keys(d.types)) {
      const keys = d.requiredKeys.length ? d.requiredKeys.map(code).join(', ') : 'none';
      const prio = (d.defaultPriority as Record<string, string | undefined> | undefined)?.[type] ?? 'normal';
      const toast = (d.viewToasts as Record<string, { view: string; when?: unknown } | undefined> | undefined)?.[type];
      lines.push(`| ${code(type)} | ${keys} | ${stateText(d.state[type] as StateRule<string>, registry, type)} | ${prio} | ${toast ? `while the ${toast.view} view is open${toast.when ? ' (unless the data opts out)' : ''}` : ''} |`);
    }
  }
  lines.push('', '| state kind | wire field (snapshot, `GET /v1/state`) | view | snapshot cap | leaves with the retained log |', '| --- | --- | --- | --- | --- |');
  for (const kind of registry.kinds) {
    const k = registry.kindSpecs[kind]!;
    const pruned = k.prunedWithLog === true ? 'yes' : k.prunedWithLog ? `when ${code(k.prunedWithLog.field)} is ${k.prunedWithLog.in.map(code).join(', ')}` : 'no';
    lines.push(`| ${code(kind)} | ${code(k.field)} | ${code(`/v1/state/${k.view}`)} | ${k.cap.toLocaleString('en-US')} | ${pruned} |`);
  }
  lines.push('', END);
  return lines.join('\n');
}

/** The docs file with its generated block replaced by the current one. */
export function withCurrentTables(text: string, registry: DomainRegistry = builtinRegistry): string {
  const from = text.indexOf('<!-- domains:begin');
  const to = text.indexOf(END);
  if (from < 0 || to < from) throw new Error(`${DOCS_FILE} has no generated domain block (${END})`);
  return text.slice(0, from) + renderDomainDocs(registry) + text.slice(to + END.length);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const text = readFileSync(DOCS_FILE, 'utf8');
  const next = withCurrentTables(text);
  if (process.argv.includes('--check')) {
    if (next !== text) {
      console.error(`${DOCS_FILE}: the event type tables are out of date; run node bin/run-ts.js scripts/gen-docs.ts`);
      process.exit(1);
    }
  } else if (next !== text) {
    writeFileSync(DOCS_FILE, next);
    console.log(`updated ${DOCS_FILE}`);
  }
}
