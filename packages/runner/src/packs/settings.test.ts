import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_KEEP_VERSIONS, resolvePackSettings } from './settings.js';

const temp = () => mkdtempSync(join(tmpdir(), 'gt-pack-settings-'));

describe('resolvePackSettings', () => {
  it('defaults to $GREENTIC_HOME/packs, and trusts $GREENTIC_HOME/trust only when it holds a key', () => {
    const home = temp();
    let s = resolvePackSettings({ env: { GREENTIC_HOME: home } });
    expect(s).toMatchObject({
      home,
      storeDir: join(home, 'packs'),
      trust: [],
      trustSource: 'default',
      production: false,
      keepVersions: DEFAULT_KEEP_VERSIONS,
    });
    mkdirSync(join(home, 'trust'));
    writeFileSync(join(home, 'trust', 'dev.pub.pem'), 'x');
    s = resolvePackSettings({ env: { GREENTIC_HOME: home } });
    expect(s.trust).toEqual([join(home, 'trust')]);
  });

  it('falls back to ~/.greentic without GREENTIC_HOME', () => {
    const s = resolvePackSettings({ env: { HOME: '/home/ada' } });
    expect(s.storeDir).toBe('/home/ada/.greentic/packs');
  });

  it.each([
    [{ GREENTIC_ENV: 'production' }, 'GREENTIC_ENV=production'],
    [{ GREENTIC_ENV: 'PROD' }, 'GREENTIC_ENV=PROD'],
    [{ GREENTIC_RUNNER_ENV: 'prod' }, 'GREENTIC_RUNNER_ENV=prod'],
  ])('is a production runner with %o', (env, reason) => {
    const s = resolvePackSettings({ env: { GREENTIC_HOME: temp(), ...env } });
    expect(s.production).toBe(true);
    expect(s.productionReason).toBe(reason);
  });

  it('is not a production runner for other environments', () => {
    expect(resolvePackSettings({ env: { GREENTIC_HOME: temp(), GREENTIC_ENV: 'staging' } }).production).toBe(
      false,
    );
  });

  it('reads packs.store, packs.trust, packs.keepVersions and tenancy.env from the runner config', () => {
    const dir = temp();
    mkdirSync(join(dir, 'keys'));
    writeFileSync(
      join(dir, 'runner.yaml'),
      'tenancy: { env: production }\npacks:\n  store: store/\n  trust: keys\n  keepVersions: 5\n',
    );
    const s = resolvePackSettings({ env: { GREENTIC_HOME: temp() }, configFile: join(dir, 'runner.yaml') });
    expect(s).toMatchObject({
      storeDir: join(dir, 'store'),
      trust: [join(dir, 'keys')],
      trustSource: 'config',
      production: true,
      keepVersions: 5,
    });
    expect(s.productionReason).toContain('tenancy.env=production');
  });

  it('lets --store and --trust win over the config', () => {
    const dir = temp();
    writeFileSync(join(dir, 'runner.yaml'), 'packs: { store: a, trust: [b] }\n');
    writeFileSync(join(dir, 'k.pem'), 'x');
    const s = resolvePackSettings({
      env: {},
      configFile: join(dir, 'runner.yaml'),
      store: join(dir, 's'),
      trust: [join(dir, 'k.pem')],
    });
    expect(s).toMatchObject({ storeDir: join(dir, 's'), trust: [join(dir, 'k.pem')], trustSource: 'flag' });
  });

  it.each([
    ['packs: [1]\n', /packs\.: must be a mapping/],
    ['packs: { keepVersions: 0 }\n', /packs\.keepVersions: must be a whole number/],
    ['packs: { trust: [1] }\n', /packs\.trust: must be a path/],
    ['packs: { store: "" }\n', /packs\.store: must be a directory path/],
    ['packs: { stor: x }\n', /packs\.stor: unknown field/],
  ])('refuses a bad packs section: %s', (text, message) => {
    const dir = temp();
    writeFileSync(join(dir, 'runner.yaml'), text);
    expect(() => resolvePackSettings({ env: {}, configFile: join(dir, 'runner.yaml') })).toThrow(message);
  });

  it('refuses a --trust path that does not exist', () => {
    expect(() => resolvePackSettings({ env: { GREENTIC_HOME: temp() }, trust: ['/nope/keys'] })).toThrow(
      /trust store \/nope\/keys does not exist/,
    );
  });
});
