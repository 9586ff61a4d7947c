/**
 * The behaviour every {@link SecretsProvider} must have, as a vitest suite.
 *
 * ```ts
 * import { secretsProviderContract } from '@greentic/secrets/testing';
 * secretsProviderContract('vault', async () => ({ provider: new VaultSecretsProvider(opts) }));
 * ```
 *
 * `make` is called once per test. A writable provider is exercised through `put`; a read-only one must return a
 * `seed(uri, text)` function that makes a text value readable (by writing the env var or the file it reads).
 * Every test uses its own random tenant, so providers may share one backend.
 */
import { randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isSecretsError } from '../errors.js';
import type { SecretsProvider } from '../provider.js';
import { SecretValue } from '../value.js';

export interface SecretsProviderFixture {
  provider: SecretsProvider;
  /** For read-only providers: makes `uri` (no version) hold the text `value`. */
  seed?: (uri: string, value: string) => Promise<void> | void;
  cleanup?: () => Promise<void> | void;
}

const uniq = () => `t${randomUUID().replaceAll('-', '').slice(0, 12)}`;

async function withFixture(
  make: () => Promise<SecretsProviderFixture>,
  body: (f: SecretsProviderFixture, tenant: string) => Promise<void>,
) {
  const f = await make();
  try {
    await body(f, uniq());
  } finally {
    await f.provider.close?.();
    await f.cleanup?.();
  }
}

async function write(f: SecretsProviderFixture, uri: string, value: string): Promise<void> {
  if (f.provider.writable) await f.provider.put(uri, value);
  else await f.seed!(uri, value);
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

export function secretsProviderContract(name: string, make: () => Promise<SecretsProviderFixture>): void {
  describe(`SecretsProvider contract: ${name}`, () => {
    it('returns undefined for a secret that does not exist', () =>
      withFixture(make, async ({ provider }, t) => {
        expect(await provider.get(`secrets://dev/${t}/_/configs/missing`)).toBeUndefined();
        expect(await provider.versions(`secrets://dev/${t}/_/configs/missing`)).toEqual([]);
      }));

    it('reads back a stored value as a redacted SecretValue', () =>
      withFixture(make, async (f, t) => {
        const uri = `secrets://dev/${t}/_/configs/db_url`;
        await write(f, uri, 'postgres://u:p@h/db');
        const r = await f.provider.get(uri);
        expect(r).toBeDefined();
        expect(r!.value).toBeInstanceOf(SecretValue);
        expect(r!.value.revealText()).toBe('postgres://u:p@h/db');
        expect(r!.uri.startsWith(`${uri}@`)).toBe(true);
        expect(r!.provider).toMatch(/^[a-z0-9-]+$/);
        expect(JSON.stringify(r)).not.toContain('postgres://');
        expect(inspect(r, { depth: 10 })).not.toContain('postgres://');
      }));

    it('keeps tenants and teams apart', () =>
      withFixture(make, async (f, t) => {
        await write(f, `secrets://dev/${t}/_/configs/key`, 'tenant-wide');
        await write(f, `secrets://dev/${t}/blue/configs/key`, 'team-blue');
        expect((await f.provider.get(`secrets://dev/${t}/blue/configs/key`))!.value.revealText()).toBe(
          'team-blue',
        );
        expect((await f.provider.get(`secrets://dev/${t}/_/configs/key`))!.value.revealText()).toBe(
          'tenant-wide',
        );
        expect(await f.provider.get(`secrets://dev/${t}/red/configs/key`)).toBeUndefined();
        expect(await f.provider.get(`secrets://dev/${t}x/_/configs/key`)).toBeUndefined();
        expect(await f.provider.get(`secrets://prod/${t}/_/configs/key`)).toBeUndefined();
      }));

    it('lists secrets by scope without their values', () =>
      withFixture(make, async (f, t) => {
        await write(f, `secrets://dev/${t}/_/configs/a`, 'value-a');
        await write(f, `secrets://dev/${t}/blue/other/b`, 'value-b');
        const all = await f.provider.list({ tenant: t });
        expect(all.map((i) => i.uri)).toEqual([
          `secrets://dev/${t}/_/configs/a`,
          `secrets://dev/${t}/blue/other/b`,
        ]);
        expect(JSON.stringify(all)).not.toContain('value-');
        expect((await f.provider.list({ tenant: t, team: '_' })).map((i) => i.uri)).toEqual([
          `secrets://dev/${t}/_/configs/a`,
        ]);
        expect((await f.provider.list({ tenant: t, category: 'other' })).map((i) => i.uri)).toEqual([
          `secrets://dev/${t}/blue/other/b`,
        ]);
        expect(await f.provider.list({ tenant: `${t}-none` })).toEqual([]);
      }));

    it('rejects a malformed URI with GT_SECRETS_URI', () =>
      withFixture(make, async ({ provider }, t) => {
        const e = await rejection(provider.get(`secrets://dev/${t}/_/Configs/x`));
        expect(isSecretsError(e, 'GT_SECRETS_URI')).toBe(true);
      }));

    it('creates a new version on each put and reads old ones by @version', async () => {
      const f = await make();
      try {
        if (!f.provider.writable) {
          const e = await rejection(f.provider.put(`secrets://dev/${uniq()}/_/configs/x`, 'v'));
          expect(isSecretsError(e, 'GT_SECRETS_READ_ONLY')).toBe(true);
          const d = await rejection(f.provider.delete(`secrets://dev/${uniq()}/_/configs/x`));
          expect(isSecretsError(d, 'GT_SECRETS_READ_ONLY')).toBe(true);
          return;
        }
        const uri = `secrets://dev/${uniq()}/_/configs/token`;
        const v1 = await f.provider.put(uri, 'first');
        const v2 = await f.provider.put(uri, SecretValue.json({ n: 2 }));
        expect(v1.version).not.toBe(v2.version);
        expect(v2.uri).toBe(`${uri}@${v2.version}`);
        const latest = await f.provider.get(uri);
        expect(latest!.version).toBe(v2.version);
        expect(latest!.format).toBe('json');
        expect(latest!.value.revealJson()).toEqual({ n: 2 });
        const old = await f.provider.get(`${uri}@${v1.version}`);
        expect(old!.value.revealText()).toBe('first');
        expect(old!.format).toBe('text');
        expect(await f.provider.get(`${uri}@999`)).toBeUndefined();
        expect((await f.provider.versions(uri)).map((v) => v.version)).toEqual([v1.version, v2.version]);
        const bytes = await f.provider.put(uri, new Uint8Array([0, 255, 7]));
        expect((await f.provider.get(`${uri}@${bytes.version}`))!.value.reveal()).toEqual(
          new Uint8Array([0, 255, 7]),
        );
      } finally {
        await f.provider.close?.();
        await f.cleanup?.();
      }
    });

    it('deletes every version', async () => {
      const f = await make();
      try {
        if (!f.provider.writable) return;
        const uri = `secrets://dev/${uniq()}/_/configs/gone`;
        await f.provider.put(uri, 'a');
        await f.provider.put(uri, 'b');
        expect(await f.provider.delete(uri)).toBe(true);
        expect(await f.provider.get(uri)).toBeUndefined();
        expect(await f.provider.get(`${uri}@1`)).toBeUndefined();
        expect(await f.provider.versions(uri)).toEqual([]);
        expect(await f.provider.delete(uri)).toBe(false);
      } finally {
        await f.provider.close?.();
        await f.cleanup?.();
      }
    });

    it('rejects a value that does not match its format, without quoting it', async () => {
      const f = await make();
      try {
        if (!f.provider.writable) return;
        const e = await rejection(
          f.provider.put(`secrets://dev/${uniq()}/_/configs/j`, 'not-json-CANARY', { format: 'json' }),
        );
        expect(isSecretsError(e, 'GT_SECRETS_INVALID')).toBe(true);
        expect((e as Error).message).not.toContain('CANARY');
      } finally {
        await f.provider.close?.();
        await f.cleanup?.();
      }
    });
  });
}
