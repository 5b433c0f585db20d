#!/usr/bin/env node
// Thin launcher for the compiled CLI (built by `npm install` / `npm run build`).
import { main } from '../dist/main.js';

const code = await main(process.argv.slice(2));
// tfjs-wasm keeps worker threads alive; exit explicitly once all output is flushed.
process.exit(code);
