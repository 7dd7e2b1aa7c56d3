import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const require = createRequire(import.meta.url);

// electron-builder's own loader and validator (installed with electron-builder; no Electron download).
const yaml = require('js-yaml') as { load(s: string): Record<string, any> };
const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
  validateConfiguration(c: unknown, logger: { isEnabled: boolean; add(): void }): Promise<void>;
};

const config = yaml.load(readFileSync(`${root}electron-builder.yml`, 'utf8'));
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));

describe('packaging (electron-builder.yml)', () => {
  it("passes electron-builder's schema validation", async () => {
    await expect(validateConfiguration(config, { isEnabled: false, add() {} })).resolves.toBeUndefined();
    // ...and the validator does reject mistakes (so the line above means something).
    await expect(validateConfiguration({ ...config, linux: { ...config.linux, tragets: ['deb'] } }, { isEnabled: false, add() {} })).rejects.toThrow();
  });

  it('targets AppImage + deb, dmg and nsis', () => {
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.mac.target).toBe('dmg');
    expect(config.win.target).toBe('nsis');
    expect(existsSync(`${root}${config.linux.icon}`)).toBe(true);
  });

  it('rebuilds better-sqlite3 for Electron and keeps it out of the asar', () => {
    expect(config.npmRebuild).toBe(true);
    expect(config.asar).toBe(true);
    expect(config.asarUnpack).toEqual(expect.arrayContaining(['node_modules/better-sqlite3/**', '**/*.node']));
    expect(pkg.dependencies['better-sqlite3']).toBeDefined();
  });

  it('flips the Electron fuses that would let the packaged binary run arbitrary code as Node', () => {
    expect(config.electronFuses).toMatchObject({ runAsNode: false, enableNodeOptionsEnvironmentVariable: false, enableNodeCliInspectArguments: false, onlyLoadAppFromAsar: true });
  });

  it('ships the bundled main, the preload and the console, and starts from dist-electron/main.js', () => {
    expect(config.files).toEqual(expect.arrayContaining(['package.json', 'dist-electron/**', 'dist/renderer/**', '!dist-electron/node_modules{,/**}']));
    expect(config.extraMetadata.main).toBe('dist-electron/main.js');
    expect(pkg.main).toBe('dist-electron/main.js');
  });

  it('never makes npm ci download Electron, and wires the desktop scripts', () => {
    expect(pkg.allowScripts.electron).toBe(false);
    expect(pkg.devDependencies.electron).toBeDefined();
    expect(pkg.dependencies.electron).toBeUndefined();
    expect(pkg.scripts.start).toBe('node scripts/start.js');
    expect(pkg.scripts.app).toMatch(/build-electron\.mjs --launch/);
    expect(pkg.scripts.dist).toMatch(/build-electron\.mjs --dist/);
    expect(pkg.scripts['build:electron']).toMatch(/build-electron\.mjs/);
  });
});
