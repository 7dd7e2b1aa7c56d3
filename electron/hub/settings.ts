import { settingsSchema, type Settings } from '../../shared/settings.ts';
import type { DB } from './db.ts';

/** Console settings (port, retention, notification rules) kept in the hub's database. */
export class SettingsStore {
  constructor(private readonly db: DB) {}

  get(): Settings {
    const row = this.db.prepare("SELECT value FROM settings WHERE key = 'console'").get() as { value: string } | undefined;
    const parsed = settingsSchema.safeParse(row ? JSON.parse(row.value) : {});
    return parsed.success ? parsed.data : settingsSchema.parse({});
  }

  put(next: Settings): Settings {
    this.db
      .prepare("INSERT INTO settings (key, value) VALUES ('console', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
      .run(JSON.stringify(next));
    return next;
  }
}
