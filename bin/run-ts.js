#!/usr/bin/env node
// Runs a TypeScript entry point under plain Node via tsx's loader, so the CLI, the headless hub and the
// benchmarks need no build step (Node 20 cannot strip types by itself).
import { register } from 'tsx/esm/api';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

register();
const [entry, ...rest] = process.argv.slice(2);
if (!entry) {
  console.error('usage: run-ts.js FILE.ts [args...]');
  process.exit(2);
}
process.argv = [process.argv[0], resolve(entry), ...rest];
await import(pathToFileURL(resolve(entry)).href);
