import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { MIN_HEIGHT, MIN_WIDTH, type Rect } from './window-options.ts';

/** Window size and position, remembered per machine in the user-data folder (not in the hub). */
export interface WindowState {
  bounds: Rect;
  maximized: boolean;
}

const stateSchema = z.object({
  bounds: z.object({ x: z.number().int(), y: z.number().int(), width: z.number().int().positive(), height: z.number().int().positive() }),
  maximized: z.boolean().default(false),
});

export const DEFAULT_SIZE = { width: 1280, height: 820 };
/** How much of the window must stay on some display for its saved position to be kept. */
export const MIN_VISIBLE = { width: 160, height: 80 };

export function loadWindowState(file: string): WindowState | null {
  try {
    const parsed = stateSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export function saveWindowState(file: string, state: WindowState): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(state));
  renameSync(tmp, file);
}

function overlap(a: Rect, b: Rect): { width: number; height: number } {
  return {
    width: Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x)),
    height: Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y)),
  };
}

function centred(size: { width: number; height: number }, area: Rect): Rect {
  const width = Math.max(Math.min(size.width, area.width), Math.min(MIN_WIDTH, area.width));
  const height = Math.max(Math.min(size.height, area.height), Math.min(MIN_HEIGHT, area.height));
  return { x: Math.round(area.x + (area.width - width) / 2), y: Math.round(area.y + (area.height - height) / 2), width, height };
}

/**
 * Fit a remembered window onto the displays that exist now (work areas; the first is the primary).
 * A window whose title bar would be off every display (an unplugged monitor) is centred on the
 * primary display; one larger than its display is shrunk to fit; sizes never go below the minimum.
 */
export function clampWindowState(saved: WindowState | null, workAreas: readonly Rect[]): WindowState {
  const primary = workAreas[0] ?? { x: 0, y: 0, ...DEFAULT_SIZE };
  if (!saved) return { bounds: centred(DEFAULT_SIZE, primary), maximized: false };
  const b = {
    ...saved.bounds,
    width: Math.max(MIN_WIDTH, Math.round(saved.bounds.width)),
    height: Math.max(MIN_HEIGHT, Math.round(saved.bounds.height)),
  };
  // The title bar strip is what the user needs to grab the window.
  const titleBar: Rect = { x: b.x, y: b.y, width: b.width, height: Math.min(b.height, 40) };
  let best: Rect | null = null;
  let bestArea = 0;
  for (const area of workAreas) {
    const o = overlap(b, area);
    const t = overlap(titleBar, area);
    if (t.width >= Math.min(MIN_VISIBLE.width, b.width) && t.height > 0 && o.height >= Math.min(MIN_VISIBLE.height, b.height) && o.width * o.height > bestArea) {
      best = area;
      bestArea = o.width * o.height;
    }
  }
  if (!best) return { bounds: centred(b, primary), maximized: saved.maximized };
  const width = Math.min(b.width, best.width);
  const height = Math.min(b.height, best.height);
  const x = Math.min(Math.max(b.x, best.x - width + MIN_VISIBLE.width), best.x + best.width - MIN_VISIBLE.width);
  const y = Math.min(Math.max(b.y, best.y), best.y + best.height - Math.min(height, MIN_VISIBLE.height));
  return { bounds: { x, y, width, height }, maximized: saved.maximized };
}
