import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clampWindowState, DEFAULT_SIZE, loadWindowState, saveWindowState } from '../../../electron/shell/window-state.ts';
import { MIN_HEIGHT, MIN_WIDTH } from '../../../electron/shell/window-options.ts';

const primary = { x: 0, y: 0, width: 1920, height: 1040 };
const right = { x: 1920, y: 0, width: 1280, height: 1024 };
const dir = mkdtempSync(join(tmpdir(), 'relaydesk-winstate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('window state', () => {
  it('centres the default size on the primary display the first time', () => {
    const s = clampWindowState(null, [primary]);
    expect(s.bounds).toEqual({ x: (1920 - DEFAULT_SIZE.width) / 2, y: (1040 - DEFAULT_SIZE.height) / 2, ...DEFAULT_SIZE });
    expect(s.maximized).toBe(false);
  });

  it('keeps a window that is on a display, including a secondary one', () => {
    const saved = { bounds: { x: 2000, y: 100, width: 1000, height: 700 }, maximized: true };
    expect(clampWindowState(saved, [primary, right])).toEqual(saved);
  });

  it('moves a window from an unplugged monitor back onto the primary display', () => {
    const s = clampWindowState({ bounds: { x: 2000, y: 100, width: 1000, height: 700 }, maximized: false }, [primary]);
    expect(s.bounds).toEqual({ x: 460, y: 170, width: 1000, height: 700 });
  });

  it('recovers a title bar above the top of the screen', () => {
    const s = clampWindowState({ bounds: { x: 100, y: -500, width: 1000, height: 700 }, maximized: false }, [primary]);
    expect(s.bounds.y).toBeGreaterThanOrEqual(0);
  });

  it('shrinks a window larger than its display and never goes below the minimum size', () => {
    const small = { x: 0, y: 0, width: 1024, height: 700 };
    const s = clampWindowState({ bounds: { x: 0, y: 0, width: 3000, height: 2000 }, maximized: false }, [small]);
    expect(s.bounds).toEqual({ x: 0, y: 0, width: 1024, height: 700 });
    const tiny = clampWindowState({ bounds: { x: 10, y: 10, width: 50, height: 50 }, maximized: false }, [primary]);
    expect([tiny.bounds.width, tiny.bounds.height]).toEqual([MIN_WIDTH, MIN_HEIGHT]);
  });

  it('keeps a window partly off the side if enough of it stays visible', () => {
    const s = clampWindowState({ bounds: { x: -600, y: 100, width: 1000, height: 700 }, maximized: false }, [primary]);
    expect(s.bounds.x).toBe(-600);
  });

  it('saves atomically and ignores missing or corrupt files', () => {
    const f = join(dir, 'sub', 'window-state.json');
    expect(loadWindowState(f)).toBeNull();
    saveWindowState(f, { bounds: { x: 1, y: 2, width: 800, height: 600 }, maximized: true });
    expect(loadWindowState(f)).toEqual({ bounds: { x: 1, y: 2, width: 800, height: 600 }, maximized: true });
    writeFileSync(f, '{"bounds": {"x": "a"}}');
    expect(loadWindowState(f)).toBeNull();
    writeFileSync(f, 'not json');
    expect(loadWindowState(f)).toBeNull();
  });
});
