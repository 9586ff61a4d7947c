// Shared helpers for benchmarks: percentiles, machine facts, and the JSON result file.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const resultsDir = join(dirname(fileURLToPath(import.meta.url)), 'results');

export function percentile(sortedNs, p) {
  if (sortedNs.length === 0) return 0;
  const i = Math.min(sortedNs.length - 1, Math.max(0, Math.ceil((p / 100) * sortedNs.length) - 1));
  return sortedNs[i];
}

export function summarize(samplesNs) {
  const s = Float64Array.from(samplesNs).sort();
  return { p50_us: percentile(s, 50) / 1e3, p99_us: percentile(s, 99) / 1e3, max_us: s[s.length - 1] / 1e3 };
}

export function machine() {
  return {
    node: process.version,
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model,
    platform: `${os.platform()}-${os.arch()}`,
    date: new Date().toISOString(),
  };
}

export function writeResult(name, result) {
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify({ name, ...machine(), ...result }, null, 2)}\n`);
  return file;
}

export const fmt = (n, d = 1) => n.toLocaleString('en-US', { maximumFractionDigits: d });
