#!/usr/bin/env node
// The `relaydesk` command: loads the TypeScript CLI through tsx (see bin/run-ts.js for why).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../electron/cli/main.ts');
process.exitCode = await main(process.argv);
