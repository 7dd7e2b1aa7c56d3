import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type DB } from '../../../electron/hub/db.ts';
import { WebhookEndpoints, type CursorBatching } from '../../../electron/hub/webhooks/endpoints.ts';
import { until } from '../../helpers/hub.ts';

/**
 * Delivery bookkeeping is written in batches: what a reader of the hub sees at once, what a
 * restart after a kill finds on disk, and that a batch never overwrites a later state.
 */
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

interface Stored {
  cursor: number;
  delivered: number;
  attempts: number;
  failed_attempts: number;
  last_error: string | null;
  last_success_at: string | null;
}

function open(batching: Partial<CursorBatching>) {
  const dir = mkdtempSync(join(tmpdir(), 'relaydesk-whbatch-'));
  const file = join(dir, 'hub.db');
  let db: DB = openDatabase(file);
  cleanups.push(() => {
    if (db.open) db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const endpoints = new WebhookEndpoints(db, { batching });
  const id = endpoints.create({ url: 'http://127.0.0.1:9/hooks', types: ['*'], scope: {}, createdBy: 'test', cursor: 0 }).endpoint.id;
  /** The row as another process (or the hub after a restart) reads it from the file. */
  const onDisk = (): Stored => {
    const other = new Database(file, { readonly: true });
    try {
      return other.prepare('SELECT cursor, delivered, attempts, failed_attempts, last_error, last_success_at FROM webhook_endpoints WHERE id = ?').get(id) as Stored;
    } finally {
      other.close();
    }
  };
  /** A kill: the connection goes away without anything in memory being written. */
  const crashAndReopen = () => {
    db.close();
    db = openDatabase(file);
    return new WebhookEndpoints(db, { batching });
  };
  return { endpoints, id, onDisk, crashAndReopen };
}

describe('webhook cursor batching', () => {
  it('a delivery is seen at once and written with the others of its window, in one write', () => {
    const { endpoints, id, onDisk } = open({ flushMs: 60_000, maxPending: 1_000 });
    endpoints.delivered(id, 3, Date.parse('2026-12-02T10:00:00Z'));
    endpoints.delivered(id, 4, Date.parse('2026-12-02T10:00:01Z'));
    endpoints.delivered(id, 7, Date.parse('2026-12-02T10:00:02Z'));
    // The dispatcher and the API go on from the true position...
    expect(endpoints.get(id)).toMatchObject({ cursor: 7, attempts: 0 });
    expect(endpoints.info(id, 10)).toMatchObject({ cursor: 7, delivered: 3, backlog: 3, last_success_at: '2026-12-02T10:00:02.000Z' });
    expect(endpoints.list(10)[0]).toMatchObject({ cursor: 7, delivered: 3 });
    // ...while the file still holds the last written state.
    expect(onDisk()).toMatchObject({ cursor: 0, delivered: 0 });
    endpoints.flush();
    expect(onDisk()).toMatchObject({ cursor: 7, delivered: 3, last_success_at: '2026-12-02T10:00:02.000Z' });
  });

  it('the window writes its batch by itself', async () => {
    const { endpoints, id, onDisk } = open({ flushMs: 10, maxPending: 1_000 });
    endpoints.delivered(id, 5, Date.now());
    await until(() => onDisk().cursor === 5, 'the batch on disk');
    expect(onDisk()).toMatchObject({ cursor: 5, delivered: 1 });
  });

  it('a full batch is written without waiting for the window', () => {
    const { endpoints, id, onDisk } = open({ flushMs: 60_000, maxPending: 3 });
    endpoints.delivered(id, 1, Date.now());
    endpoints.delivered(id, 2, Date.now());
    expect(onDisk().cursor).toBe(0);
    endpoints.delivered(id, 3, Date.now());
    expect(onDisk()).toMatchObject({ cursor: 3, delivered: 3 });
  });

  it('a failure after deliveries is written after them, so the retry state survives', () => {
    const { endpoints, id, onDisk } = open({ flushMs: 60_000, maxPending: 1_000 });
    endpoints.delivered(id, 1, Date.now());
    endpoints.delivered(id, 2, Date.now());
    endpoints.skip(id, 2);
    endpoints.failed(id, 1, Date.now() + 1_000, 'HTTP 503', 503);
    // A batch written later would clear the attempts and the error: it went first.
    expect(onDisk()).toMatchObject({ cursor: 2, delivered: 2, attempts: 1, failed_attempts: 1, last_error: 'HTTP 503' });
    expect(endpoints.get(id)).toMatchObject({ cursor: 2, attempts: 1 });
  });

  it('a dead letter after deliveries moves the cursor past both, in one transaction', () => {
    const { endpoints, id, onDisk } = open({ flushMs: 60_000, maxPending: 1_000 });
    endpoints.delivered(id, 4, Date.now());
    endpoints.dead(id, { seq: 5, webhook_id: 'msg_h_5', type: 'x.y', attempts: 3, last_error: 'HTTP 500', last_status: 500 }, Date.now());
    expect(onDisk()).toMatchObject({ cursor: 5, delivered: 1, attempts: 0, last_error: 'HTTP 500' });
    expect(endpoints.deadLetter(id, 5)).toMatchObject({ webhook_id: 'msg_h_5' });
  });

  it('after a kill the cursor is the last written one: the unwritten deliveries are repeated, none skipped', () => {
    const { endpoints, id, crashAndReopen } = open({ flushMs: 60_000, maxPending: 3 });
    for (const seq of [1, 2, 3, 4, 5]) endpoints.delivered(id, seq, Date.now());
    expect(endpoints.get(id)!.cursor).toBe(5);
    const restarted = crashAndReopen();
    // 4 and 5 go out again (with the same webhook-id); nothing after the written cursor is lost.
    expect(restarted.get(id)).toMatchObject({ cursor: 3, attempts: 0 });
    expect(restarted.info(id, 5)).toMatchObject({ delivered: 3, backlog: 2 });
  });

  it('removing an endpoint writes its pending deliveries first', () => {
    const { endpoints, id, onDisk } = open({ flushMs: 60_000, maxPending: 1_000 });
    endpoints.delivered(id, 9, Date.now());
    expect(endpoints.remove(id)).toBe(true);
    expect(endpoints.get(id)).toBeUndefined();
    expect(onDisk()).toMatchObject({ cursor: 9, delivered: 1 });
  });
});
