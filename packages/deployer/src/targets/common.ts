import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { CONNECTOR_KINDS } from '../connectors.js';
import { type EnvironmentDescription, resolveFrom } from '../description.js';
import type { PackInfo } from '../packs.js';
import type { RunnerSecretsFile } from '../runner-wiring.js';

/** One generated file, relative to the target's output directory. */
export interface Artifact {
  path: string;
  content: string;
  /** File mode (default 0644). */
  mode?: number;
}

/** What every target generator reads. */
export interface TargetInput {
  description: EnvironmentDescription;
  /** Directory of greentic.yaml (relative paths resolve against it). */
  dir: string;
  packs: PackInfo[];
  /** The runner's pack store apply loads the built packs into (dev-desktop: `$GREENTIC_HOME/packs`). */
  packStore?: string;
  /** The trust store of the dev key. */
  trustDir?: string;
  /** Overrides the Telegram API base URL (as the deployer's --telegram-api-base). */
  telegramApiBase?: string;
  /** dev-desktop: the encrypted store the runner reads secrets:// references from. */
  secretsFile?: RunnerSecretsFile;
}

export interface FlowFile {
  /** Absolute path of the source. */
  source: string;
  /** File name inside the flows directory of a container (unique). */
  name: string;
}

/**
 * Flow files the runner serves: the flows of every pack, then `target.runner.flows`. `extraOnly`: only the latter
 * (dev-desktop, where the packs themselves are loaded into the pack store).
 */
export function flowFiles(input: TargetInput, o: { extraOnly?: boolean } = {}): FlowFile[] {
  const out: FlowFile[] = [];
  const used = new Set<string>();
  const add = (source: string, prefix: string) => {
    let name = `${prefix}${basename(source)}`.replace(/[^A-Za-z0-9._-]/g, '_');
    for (let n = 2; used.has(name); n++) name = `${prefix}${n}_${basename(source)}`;
    used.add(name);
    out.push({ source, name });
  };
  if (!o.extraOnly) for (const p of input.packs) for (const f of p.flowFiles) add(f, `${p.packId}__`);
  for (const f of input.description.target.runner?.flows ?? []) add(resolveFrom(input.dir, f), '');
  return out;
}

/** The hosts and ports the runner calls at providers (from the connectors' API base URLs). */
export function providerEndpoints(d: EnvironmentDescription): { host: string; port: number }[] {
  const seen = new Map<string, { host: string; port: number }>();
  for (const c of d.connectors) {
    const urls = c.api_base_url ? [c.api_base_url] : [];
    for (const u of urls) {
      const url = new URL(u);
      const port = Number(url.port || (url.protocol === 'http:' ? 80 : 443));
      seen.set(`${url.hostname}:${port}`, { host: url.hostname, port });
    }
    if (!c.api_base_url)
      for (const host of CONNECTOR_KINDS[c.kind]?.egressHosts ?? [])
        seen.set(`${host}:443`, { host, port: 443 });
  }
  for (const host of d.target.k8s?.egress_hosts ?? []) seen.set(`${host}:443`, { host, port: 443 });
  return [...seen.values()];
}

export function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Hash of a set of artifacts (paths and contents). */
export function artifactsHash(artifacts: Artifact[]): string {
  const h = createHash('sha256');
  for (const a of [...artifacts].sort((x, y) => x.path.localeCompare(y.path)))
    h.update(a.path).update('\0').update(a.content).update('\0');
  return `sha256:${h.digest('hex')}`;
}

export function readFlow(f: FlowFile): string {
  return readFileSync(f.source, 'utf8');
}

export const DEFAULT_IMAGE = { repository: 'ghcr.io/greentic-ai/greentic-runner', tag: '0.1.0' } as const;
