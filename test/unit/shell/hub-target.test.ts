import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DesktopPrefsFile, pageAfterRefusedLink, resolveHubTarget } from '../../../electron/shell/hub-target.ts';
import { parseLoginLink } from '../../../shared/login-link.ts';

const LINK = 'http://hub.example:7700/auth/exchange?code=rdc_abc';

describe('which hub the desktop shows', () => {
  it('embedded by default; a login link from --hub-url, RELAYDESK_HUB_URL or the profile picks a remote hub', () => {
    expect(resolveHubTarget([], {}, {})).toEqual({ kind: 'embedded', forget: false });
    expect(resolveHubTarget(['--hub-url', LINK], {}, {})).toEqual({ kind: 'remote', origin: 'http://hub.example:7700', entry: LINK, source: '--hub-url' });
    expect(resolveHubTarget([`--hub-url=${LINK}`], {}, {})).toMatchObject({ kind: 'remote', entry: LINK });
    expect(resolveHubTarget([], { RELAYDESK_HUB_URL: LINK }, {})).toMatchObject({ kind: 'remote', source: 'RELAYDESK_HUB_URL' });
    // The flag wins over the environment, which wins over the profile.
    expect(resolveHubTarget(['--hub-url', 'https://a.example'], { RELAYDESK_HUB_URL: LINK }, { hub_url: 'http://b.example' })).toMatchObject({ origin: 'https://a.example' });
    // A saved hub or a bare URL opens the console page, signed in by the cookie an earlier link left.
    expect(resolveHubTarget([], {}, { hub_url: 'http://hub.example:7700' })).toEqual({ kind: 'remote', origin: 'http://hub.example:7700', entry: 'http://hub.example:7700/', source: 'saved' });
    expect(resolveHubTarget(['--embedded-hub'], { RELAYDESK_HUB_URL: LINK }, { hub_url: 'http://hub.example:7700' })).toEqual({ kind: 'embedded', forget: true });
  });

  it('refuses what is not a hub with the reason', () => {
    expect(() => resolveHubTarget(['--hub-url'], {}, {})).toThrow(/--hub-url: needs a value/);
    expect(() => resolveHubTarget(['--hub-url', 'hub:7700'], {}, {})).toThrow(/--hub-url: the login link uses hub:/);
    expect(() => resolveHubTarget(['--hub-url', 'not a url'], {}, {})).toThrow(/is not a URL/);
    expect(() => resolveHubTarget(['--hub-url', 'http://h:1/v1/stream?access_token=x'], {}, {})).toThrow(/has path \/v1\/stream/);
    expect(() => resolveHubTarget([], { RELAYDESK_HUB_URL: 'ftp://h/' }, {})).toThrow(/RELAYDESK_HUB_URL: uses ftp:/);
    expect(() => resolveHubTarget(['--hub-url', 'http://u:p@h:1/'], {}, {})).toThrow(/user name or password/);
  });

  it('parseLoginLink: the link and its hub, or why not', () => {
    expect(parseLoginLink(` ${LINK}\n`)).toEqual({ url: LINK, origin: 'http://hub.example:7700' });
    expect(() => parseLoginLink('')).toThrow('the login link is empty');
    expect(() => parseLoginLink('http://h:1/auth/exchange?code=')).toThrow(/no code parameter/);
    expect(() => parseLoginLink(`http://h:1/auth/exchange?code=${'x'.repeat(2100)}`)).toThrow(/longer than 2048/);
  });
});

describe('a login link the hub refuses (used once already, or expired)', () => {
  it('sends the window to the console page of that hub; anything else stays', () => {
    const origin = 'http://hub.example:7700';
    expect(pageAfterRefusedLink(`${origin}/auth/exchange?code=x`, 401, origin)).toBe(`${origin}/`);
    expect(pageAfterRefusedLink(`${origin}/auth/exchange?code=x`, 303, origin)).toBeNull();
    expect(pageAfterRefusedLink(`${origin}/`, 401, origin)).toBeNull();
    expect(pageAfterRefusedLink('http://other.example/auth/exchange?code=x', 401, origin)).toBeNull();
    expect(pageAfterRefusedLink('not a url', 500, origin)).toBeNull();
  });
});

describe('the desktop profile (desktop.json)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'relaydesk-prefs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the remote hub origin and local notification rules; a broken file reads as defaults', () => {
    const file = join(dir, 'desktop.json');
    const prefs = new DesktopPrefsFile(file);
    expect(prefs.read()).toEqual({});
    expect(prefs.settings().notifications.muted).toBe(false);
    prefs.update({ hub_url: 'http://hub.example:7700' });
    const s = prefs.settings();
    prefs.putSettings({ ...s, notifications: { ...s.notifications, muted: true } });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ hub_url: 'http://hub.example:7700', notifications: { ...s.notifications, muted: true } });
    prefs.update({ hub_url: undefined });
    expect(prefs.read()).toEqual({ notifications: { ...s.notifications, muted: true } });
    writeFileSync(file, '{not json');
    expect(prefs.read()).toEqual({});
    writeFileSync(file, JSON.stringify({ hub_url: 'nope' }));
    expect(prefs.read()).toEqual({});
  });
});
