/** `--backend` for every command that computes, and the line saying which backend and adapter run. */
import { Option } from 'commander';
import { nodeWebGpuAdapter, type GpuAdapterDescription } from '@livestyle/core/internal/backend/node-webgpu.js';
import { getDefaultEnvironment } from '@livestyle/core/internal/pipeline/stylizer.js';

export const CLI_BACKENDS = ['auto', 'webgpu', 'wasm', 'cpu'] as const;
export type CliBackend = (typeof CLI_BACKENDS)[number];

export function backendOption(): Option {
  return new Option('--backend <name>', 'tfjs backend: auto = a hardware GPU through WebGPU (Dawn) when present, else multi-threaded wasm')
    .choices([...CLI_BACKENDS])
    .default('auto');
}

/** Which backend ran, and on which adapter (recorded in JSON outputs). */
export interface BackendReport {
  readonly name: string;
  readonly adapter: GpuAdapterDescription | null;
}

export function backendReport(name: string): BackendReport {
  return { name, adapter: name === 'webgpu' ? nodeWebGpuAdapter() : null };
}

let announced = false;

/**
 * Prints the backend (and GPU adapter) once per process on stderr; a software adapter is warned
 * about even with --quiet, since it changes the expected speed by orders of magnitude.
 */
export function announceBackend(name: string, quiet: boolean): BackendReport {
  const report = backendReport(name);
  if (announced) return report;
  announced = true;
  const a = report.adapter;
  if (!quiet) process.stderr.write(`livestyle: backend ${name}${a ? ` (${a.description || a.device || a.vendor})` : ''}\n`);
  if (a?.software) process.stderr.write('livestyle: warning: software adapter, expect CPU speed (wasm is usually faster)\n');
  return report;
}

/** Starts the backend for commands that run tf ops without a Stylizer; returns its name. */
export async function initCliBackend(preference: CliBackend, quiet: boolean): Promise<BackendReport> {
  const name = await getDefaultEnvironment().initBackend(preference);
  return announceBackend(name, quiet);
}
