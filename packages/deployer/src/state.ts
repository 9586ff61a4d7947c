/**
 * The deployer state file (`$GREENTIC_HOME/deployer/<name>.state.json`): what was created, with the hash of the
 * spec it was created from. It is written after every step of every resource (atomically: temp file + rename),
 * so an interrupted run resumes where it stopped. It never holds a secret value.
 */
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { TargetKind } from './description.js';
import { DeployerError } from './errors.js';

export type ResourceStatus = 'applied' | 'in-progress';

export interface ResourceRecord {
  id: string;
  kind: string;
  /** Hash of the desired spec it was last applied from. */
  hash: string;
  status: ResourceStatus;
  /** The step that last completed (`in-progress` records resume after it). */
  step?: string;
  /** What destroy needs (URLs, paths, pids) — never secret values. */
  data: Record<string, unknown>;
  /** False when the deployer found the thing already there (a key it did not create): destroy leaves it. */
  owned: boolean;
  updated_at: string;
}

export interface DeployerStateDoc {
  format: 'greentic-deployer-state/v1';
  name: string;
  target?: TargetKind;
  description?: string;
  resources: Record<string, ResourceRecord>;
}

export class DeployerState {
  readonly file: string;
  private doc: DeployerStateDoc;

  private constructor(file: string, doc: DeployerStateDoc) {
    this.file = file;
    this.doc = doc;
  }

  static fileFor(stateDir: string, name: string): string {
    return join(stateDir, `${name}.state.json`);
  }

  static load(stateDir: string, name: string): DeployerState {
    const file = DeployerState.fileFor(stateDir, name);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT')
        return new DeployerState(file, { format: 'greentic-deployer-state/v1', name, resources: {} });
      throw stateError(file, `cannot read it (${(e as NodeJS.ErrnoException).code})`, e);
    }
    let doc: DeployerStateDoc;
    try {
      doc = JSON.parse(text) as DeployerStateDoc;
    } catch (e) {
      throw stateError(file, 'is not valid JSON (damaged?)', e);
    }
    if (doc?.format !== 'greentic-deployer-state/v1' || typeof doc.resources !== 'object')
      throw stateError(file, `has an unknown format ${JSON.stringify(doc?.format)}`);
    return new DeployerState(file, doc);
  }

  get name(): string {
    return this.doc.name;
  }
  get target(): TargetKind | undefined {
    return this.doc.target;
  }
  set target(t: TargetKind | undefined) {
    this.doc.target = t;
  }
  set description(file: string | undefined) {
    this.doc.description = file;
  }

  get(id: string): ResourceRecord | undefined {
    return this.doc.resources[id];
  }

  /** Every record, in the order they were first created. */
  list(): ResourceRecord[] {
    return Object.values(this.doc.resources);
  }

  put(record: Omit<ResourceRecord, 'updated_at'>): void {
    this.doc.resources[record.id] = { ...record, updated_at: new Date().toISOString() };
    this.save();
  }

  remove(id: string): void {
    delete this.doc.resources[id];
    this.save();
  }

  isEmpty(): boolean {
    return Object.keys(this.doc.resources).length === 0;
  }

  save(): void {
    mkdirSync(join(this.file, '..'), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(this.doc, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.file);
  }

  /** Deletes the state file (after a complete destroy). */
  delete(): void {
    rmSync(this.file, { force: true });
  }
}

function stateError(file: string, what: string, cause?: unknown) {
  return new DeployerError('GT_DEPLOY_STATE', `deployer state ${file} ${what}`, {
    step: 'state',
    resource: `file:${file}`,
    hint: 'restore it from a backup, or move it away to start over (resources it recorded must then be removed by hand)',
    cause,
  });
}

/**
 * One deployer run at a time per environment: an exclusive lock file holding the pid. A lock whose process is gone
 * (same host) is taken over.
 */
export function acquireLock(stateDir: string, name: string): () => void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const file = join(stateDir, `${name}.lock`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeFileSync(
        fd,
        JSON.stringify({ pid: process.pid, host: hostname(), time: new Date().toISOString() }),
      );
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let holder: { pid?: number; host?: string } = {};
      try {
        holder = JSON.parse(readFileSync(file, 'utf8'));
      } catch {
        // unreadable: treat as stale
      }
      const alive = holder.host === hostname() && holder.pid !== undefined && processAlive(holder.pid);
      if (alive)
        throw new DeployerError(
          'GT_DEPLOY_STATE',
          `another greentic-deployer (pid ${holder.pid}) is running`,
          {
            step: 'state',
            resource: `file:${file}`,
            hint: 'wait for it to finish; if it is gone, delete the lock file',
          },
        );
      rmSync(file, { force: true });
    }
  }
  throw new DeployerError('GT_DEPLOY_STATE', `cannot take the lock ${file}`, {
    step: 'state',
    resource: `file:${file}`,
    hint: 'delete the lock file if no deployer is running',
  });
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
