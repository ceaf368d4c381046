#!/usr/bin/env node
// Entry point of the `rwkv` command: runs the TypeScript CLI through tsx's loader, so a
// checkout needs no separate build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
