import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { LOGIN_PATH, parseLoginLink } from '../../shared/login-link.ts';
import { settingsSchema, type Settings } from '../../shared/settings.ts';

/**
 * Which hub the desktop window shows. By default the one it runs itself (embedded). With a login
 * link (`relaydesk login-url` on a shared `relaydesk serve`) it shows that hub instead, signed in as
 * the link's token, so a store manager's desktop sees only that store; then no hub starts here.
 *
 * Sources, first wins: `--embedded-hub` (forget a saved remote hub), `--hub-url <link or URL>`,
 * RELAYDESK_HUB_URL, the hub saved in the profile (desktop.json) by an earlier sign-in.
 * A plain hub URL (no code) reuses the session cookie an earlier login link left in the profile.
 */
export type HubTarget =
  | { kind: 'embedded'; forget: boolean }
  | {
      kind: 'remote';
      origin: string;
      /** What the window loads first: the login link, or the hub's console page. */
      entry: string;
      /** Where the choice came from, for the log and error messages. */
      source: '--hub-url' | 'RELAYDESK_HUB_URL' | 'saved';
    };

export class HubTargetError extends Error {
  constructor(source: string, reason: string) {
    super(`${source}: ${reason}`);
    this.name = 'HubTargetError';
  }
}

function argValue(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === name) {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new HubTargetError(name, 'needs a value (a login link from `relaydesk login-url`, or a hub URL)');
      return v;
    }
    if (a.startsWith(`${name}=`)) return a.slice(name.length + 1);
  }
  return undefined;
}

/** A login link, or a bare hub URL (http(s), no path beyond '/', no credentials). */
export function remoteTarget(value: string, source: Exclude<HubTarget, { kind: 'embedded' }>['source']): HubTarget {
  const text = value.trim();
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new HubTargetError(source, `"${text.slice(0, 80)}" is not a URL (expected a login link: http://host:port/auth/exchange?code=...)`);
  }
  if (u.pathname !== '/' || u.search) {
    try {
      const link = parseLoginLink(text);
      return { kind: 'remote', origin: link.origin, entry: link.url, source };
    } catch (err) {
      throw new HubTargetError(source, err instanceof Error ? err.message : String(err));
    }
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new HubTargetError(source, `uses ${u.protocol} (only http and https hubs)`);
  if (u.username || u.password) throw new HubTargetError(source, 'carries a user name or password');
  return { kind: 'remote', origin: u.origin, entry: `${u.origin}/`, source };
}

/**
 * A login link works once. The same link given again (RELAYDESK_HUB_URL stays set, a link pasted
 * twice, one older than a day) is answered with an error page instead of the console: go to the
 * console page then, where the session cookie from the link's first use may still sign the window
 * in, or else the console shows its sign-in screen. Returns where to go, or null to stay.
 */
export function pageAfterRefusedLink(url: string, httpStatus: number, appOrigin: string): string | null {
  if (httpStatus < 400) return null;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  return u.origin === appOrigin && u.pathname === LOGIN_PATH ? `${u.origin}/` : null;
}

export function resolveHubTarget(argv: readonly string[], env: Record<string, string | undefined>, saved: DesktopPrefs): HubTarget {
  if (argv.includes('--embedded-hub')) return { kind: 'embedded', forget: true };
  const flag = argValue(argv, '--hub-url');
  if (flag !== undefined) return remoteTarget(flag, '--hub-url');
  if (env.RELAYDESK_HUB_URL) return remoteTarget(env.RELAYDESK_HUB_URL, 'RELAYDESK_HUB_URL');
  if (saved.hub_url) return remoteTarget(saved.hub_url, 'saved');
  return { kind: 'embedded', forget: false };
}

/**
 * What the desktop keeps in its profile (desktop.json) besides the embedded hub's database: the
 * remote hub it signed in to (its origin only: a login code is used once and never stored), and
 * the notification rules for a remote hub, whose own settings a store manager may not change.
 */
export const desktopPrefsSchema = z
  .object({
    hub_url: z.url().optional(),
    notifications: settingsSchema.shape.notifications.unwrap().optional(),
  })
  .strict();
export type DesktopPrefs = z.infer<typeof desktopPrefsSchema>;

export class DesktopPrefsFile {
  constructor(private readonly file: string) {}

  /** A missing or unreadable file is the defaults: a broken profile must not stop the app. */
  read(): DesktopPrefs {
    if (!existsSync(this.file)) return {};
    try {
      const parsed = desktopPrefsSchema.safeParse(JSON.parse(readFileSync(this.file, 'utf8')));
      return parsed.success ? parsed.data : {};
    } catch {
      return {};
    }
  }

  write(next: DesktopPrefs): DesktopPrefs {
    const valid = desktopPrefsSchema.parse(next);
    // Write then rename, so a crash mid-write leaves the old file rather than half a new one.
    writeFileSync(`${this.file}.tmp`, JSON.stringify(valid, null, 2));
    renameSync(`${this.file}.tmp`, this.file);
    return valid;
  }

  update(patch: Partial<DesktopPrefs>): DesktopPrefs {
    const next: DesktopPrefs = { ...this.read(), ...patch };
    for (const k of Object.keys(next) as (keyof DesktopPrefs)[]) if (next[k] === undefined) delete next[k];
    return this.write(next);
  }

  /** The shell's notification rules for a remote hub, in the hub settings' shape. */
  settings(): Settings {
    return settingsSchema.parse({ notifications: this.read().notifications ?? {} });
  }

  putSettings(s: Settings): Settings {
    this.update({ notifications: settingsSchema.parse(s).notifications });
    return this.settings();
  }
}
