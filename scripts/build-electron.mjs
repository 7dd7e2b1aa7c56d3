#!/usr/bin/env node
// Builds the Electron main process and preload into dist-electron/ with esbuild (installed with vite).
//
//   node scripts/build-electron.mjs            bundle main (ESM) + preload (CJS), copy the icons
//   node scripts/build-electron.mjs --native   also fetch better-sqlite3 built for Electron's ABI
//                                              into dist-electron/node_modules (see prepareNative)
//   node scripts/build-electron.mjs --launch   then start Electron on the repo (npm run app)
//   node scripts/build-electron.mjs --dist     then package with electron-builder (npm run dist)
//   node scripts/build-electron.mjs --icons    regenerate electron/assets/*.png
//
// main.js is an ES module (package.json "type": "module"; Electron >= 28 loads ESM main scripts and
// the hub is ESM with .ts import specifiers, which esbuild resolves). preload.cjs is CommonJS because
// sandboxed preloads cannot be ES modules and may only require('electron'): zod and the shared
// schemas are bundled into it. npm packages stay external in main (electron-builder ships the
// production dependencies; better-sqlite3 must stay a real file on disk, outside the asar).
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { Buffer } from 'node:buffer';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist-electron');
const require = createRequire(import.meta.url);
const args = new Set(process.argv.slice(2));
const OWN_FLAGS = new Set(['--native', '--launch', '--dist', '--icons']);
const log = (m) => process.stdout.write(`[build-electron] ${m}\n`);

export async function buildBundles() {
  const esbuild = await import('esbuild');
  mkdirSync(out, { recursive: true });
  const common = { bundle: true, platform: 'node', target: 'node22', sourcemap: 'linked', logLevel: 'warning', absWorkingDir: root };
  await esbuild.build({
    ...common,
    entryPoints: { main: 'electron/main.ts' },
    outdir: out,
    format: 'esm',
    outExtension: { '.js': '.js' },
    packages: 'external',
    // Some dependencies are CommonJS; give the ESM bundle a require() for any that esbuild inlines.
    banner: { js: "import { createRequire as __rdCreateRequire } from 'node:module'; const require = __rdCreateRequire(import.meta.url);" },
  });
  await esbuild.build({
    ...common,
    entryPoints: { preload: 'electron/preload.ts' },
    outdir: out,
    format: 'cjs',
    outExtension: { '.js': '.cjs' },
    platform: 'browser',
    external: ['electron'],
    minify: true,
  });
  mkdirSync(join(out, 'assets'), { recursive: true });
  for (const f of readdirSync(join(root, 'electron', 'assets'))) copyFileSync(join(root, 'electron', 'assets', f), join(out, 'assets', f));
  log(`bundled ${join('dist-electron', 'main.js')} and ${join('dist-electron', 'preload.cjs')}`);
}

/** Electron's version: asked of the binary when there is one (ELECTRON_PATH may differ), else the package's. */
export function electronVersion(bin = electronBinary()) {
  if (bin) {
    const r = spawnSync(bin, ['-p', 'process.versions.electron'], { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, encoding: 'utf8', timeout: 20_000 });
    const v = r.stdout?.trim();
    if (r.status === 0 && /^\d+\.\d+\.\d+/.test(v)) return v;
  }
  return JSON.parse(readFileSync(join(root, 'node_modules', 'electron', 'package.json'), 'utf8')).version;
}

/**
 * better-sqlite3 in node_modules is compiled for Node (the tests need that). Electron has another
 * ABI, so the desktop app gets its own copy in dist-electron/node_modules/better-sqlite3, which
 * Node's resolution finds first from dist-electron/main.js. The copy is fetched with
 * prebuild-install for Electron's version (network), bounded by a timeout. Packaging does not use
 * it: electron-builder rebuilds better-sqlite3 for each target (npmRebuild) and excludes this folder.
 */
export function prepareNative({ timeoutMs = 120_000 } = {}) {
  const src = join(root, 'node_modules', 'better-sqlite3');
  const dst = join(out, 'node_modules', 'better-sqlite3');
  const version = electronVersion();
  const stamp = join(dst, '.electron-abi');
  const binary = join(dst, 'build', 'Release', 'better_sqlite3.node');
  const want = `${version} ${process.platform}-${process.arch} ${JSON.parse(readFileSync(join(src, 'package.json'), 'utf8')).version}`;
  if (existsSync(binary) && existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return { ok: true };
  rmSync(dst, { recursive: true, force: true });
  mkdirSync(dirname(dst), { recursive: true });
  cpSync(src, dst, { recursive: true, filter: (p) => !p.includes(`${join('better-sqlite3', 'build')}`) });
  const bin = require.resolve('prebuild-install/bin.js');
  log(`fetching better-sqlite3 for Electron ${version} (${process.platform}-${process.arch})`);
  const r = spawnSync(process.execPath, [bin, '--runtime', 'electron', '--target', version, '--arch', process.arch, '--verbose'], {
    cwd: dst,
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  if (r.status === 0 && existsSync(binary)) {
    writeFileSync(stamp, want);
    return { ok: true };
  }
  rmSync(dst, { recursive: true, force: true });
  const said = `${r.stderr ?? ''}`.split('\n').filter((l) => /warn|err/i.test(l)).at(-1)?.replace(/^prebuild-install\s+/, '').trim();
  return { ok: false, reason: r.error ? r.error.message : `prebuild-install: ${said || `exited with ${r.status ?? r.signal}`}` };
}

/** The Electron binary, if the electron package has one (its download is disabled in this repo). */
export function electronBinary() {
  if (process.env.ELECTRON_PATH) return existsSync(process.env.ELECTRON_PATH) ? process.env.ELECTRON_PATH : null;
  try {
    const p = require('electron');
    return typeof p === 'string' && existsSync(p) ? p : null;
  } catch {
    return null;
  }
}

/** Package with electron-builder, keeping node_modules/better-sqlite3 usable by Node afterwards. */
async function dist() {
  const nodeBinary = join(root, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
  const backup = join(out, 'better_sqlite3.node.node-abi');
  // electron-builder's npmRebuild compiles better-sqlite3 for Electron in place; put Node's back after.
  if (existsSync(nodeBinary)) copyFileSync(nodeBinary, backup);
  const builder = join(root, 'node_modules', 'electron-builder', 'cli.js');
  const code = await new Promise((res) => {
    spawn(process.execPath, [builder, '--config', 'electron-builder.yml', ...process.argv.slice(2).filter((a) => !OWN_FLAGS.has(a))], { cwd: root, stdio: 'inherit' }).on('exit', (c) => res(c ?? 1));
  });
  if (existsSync(backup)) copyFileSync(backup, nodeBinary);
  return code;
}

// ---- icons: tiny PNGs written without any image library ----------------------------------------
function crc32(buf) {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
export function png(size, pixel) {
  const raw = Buffer.alloc((size * 4 + 1) * size);
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    for (let x = 0; x < size; x++) {
      const [r, g, b, a] = pixel((x + 0.5) / size, (y + 0.5) / size);
      raw.set([r, g, b, a], y * (size * 4 + 1) + 1 + x * 4);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}
/** A rounded teal tile with two "relay" bars; optionally a red dot (unread urgent). */
function logo(dot) {
  return (u, v) => {
    const r = 0.2;
    const dx = Math.max(Math.abs(u - 0.5) - (0.5 - r), 0);
    const dy = Math.max(Math.abs(v - 0.5) - (0.5 - r), 0);
    if (dot && (u - 0.78) ** 2 + (v - 0.22) ** 2 < 0.2 ** 2) return [225, 45, 57, 255];
    if (dx * dx + dy * dy > r * r) return [0, 0, 0, 0];
    const bar = (v > 0.3 && v < 0.42 && u > 0.22 && u < 0.7) || (v > 0.58 && v < 0.7 && u > 0.3 && u < 0.78);
    return bar ? [255, 255, 255, 255] : [20, 132, 140, 255];
  };
}
function icons() {
  const dir = join(root, 'electron', 'assets');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'icon.png'), png(512, logo(false)));
  writeFileSync(join(dir, 'tray.png'), png(32, logo(false)));
  writeFileSync(join(dir, 'tray-urgent.png'), png(32, logo(true)));
  log('wrote electron/assets/icon.png (512), tray.png and tray-urgent.png (32)');
}

async function cli() {
  if (args.has('--icons')) return icons();
  const bin = args.has('--launch') ? electronBinary() : null;
  if (args.has('--launch') && !bin) {
    process.stderr.write(
      '[build-electron] no Electron binary: node_modules/electron has none (its download is disabled in package.json allowScripts).\n' +
        '  Fetch it with `node node_modules/electron/install.js`, or set ELECTRON_PATH, or run `npm start` (it falls back to the browser console).\n',
    );
    process.exit(1);
  }
  await buildBundles();
  if (args.has('--native') || bin) {
    const r = prepareNative();
    if (!r.ok) {
      process.stderr.write(`[build-electron] better-sqlite3 for Electron ${electronVersion()} is not available (${r.reason}); the desktop app cannot open its database.\n`);
      if (bin) process.exit(1);
    }
  }
  if (bin) {
    const child = spawn(bin, ['.', ...process.argv.slice(2).filter((a) => !OWN_FLAGS.has(a))], { cwd: root, stdio: 'inherit' });
    for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
    child.on('exit', (c) => process.exit(c ?? 0));
    return;
  }
  if (args.has('--dist')) process.exit(await dist());
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await cli();
