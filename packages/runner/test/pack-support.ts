// Test support for packs in the daemon: a temporary folder with a release key, a trust directory holding its public
// half, and small flows-only "greeting" packs whose question and answer say which version they come from.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPack, generateKeyPair } from '@greentic/pack';

export interface PackWorkspace {
  root: string;
  trustDir: string;
  /** Builds a greeting pack (signed with the release key unless `sign: false`) and returns the .gtpack path. */
  greetingPack(version: string, opts?: { sign?: boolean; packId?: string }): Promise<string>;
  dispose(): void;
}

export async function packWorkspace(prefix: string): Promise<PackWorkspace> {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const pair = await generateKeyPair();
  const trustDir = join(root, 'trust');
  mkdirSync(trustDir);
  writeFileSync(join(trustDir, 'release.pub.pem'), pair.publicKeyPem);

  async function greetingPack(version: string, opts: { sign?: boolean; packId?: string } = {}) {
    const dir = mkdtempSync(join(root, 'pack-'));
    mkdirSync(join(dir, 'flows'));
    writeFileSync(
      join(dir, 'flows', 'greet.ygtc'),
      [
        'id: greet',
        'type: messaging',
        'nodes:',
        '  ask:',
        '    questions:',
        '      questions:',
        `        - { id: name, prompt: "Hello from ${version}! Your name?", answer_type: text }`,
        '    routing: [{ to: done }]',
        '  done:',
        `    template: "${version} thanks {{state.name}}"`,
        '    routing: out',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'pack.yaml'),
      [
        `pack_id: ${opts.packId ?? 'test.greeting'}`,
        `version: ${version}`,
        'kind: application',
        'publisher: tests',
        'flows:',
        '  - { id: greet, file: flows/greet.ygtc, tags: [default] }',
        '',
      ].join('\n'),
    );
    const out = join(dir, `greeting-${version}.gtpack`);
    await buildPack(join(dir, 'pack.yaml'), {
      out,
      ...(opts.sign === false ? {} : { signingKey: pair.privateKeyPem }),
    });
    return out;
  }

  return { root, trustDir, greetingPack, dispose: () => rmSync(root, { recursive: true, force: true }) };
}
