import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type FlowIR, loadFlow } from '@greentic/flow';
import { RunnerError } from '../errors.js';

export interface LoadedFlow {
  flow: FlowIR;
  file: string;
}

/** Loads every flow the configuration names (files, or directories of `.ygtc` files, sorted). */
export async function loadFlowSet(paths: string[]): Promise<LoadedFlow[]> {
  const files: string[] = [];
  for (const p of paths) {
    let isDir: boolean;
    try {
      isDir = (await stat(p)).isDirectory();
    } catch {
      throw new RunnerError('GT_RUNNER_CONFIG', `flows.paths: ${p}: no such file or directory`, {
        field: 'flows.paths',
      });
    }
    if (isDir) {
      for (const f of (await readdir(p)).sort()) if (f.endsWith('.ygtc')) files.push(join(p, f));
    } else files.push(p);
  }
  const out: LoadedFlow[] = [];
  for (const file of files) {
    const source = await readFile(file, 'utf8');
    out.push({ flow: loadFlow(source, { file }), file });
  }
  return out;
}
