/** Reference parsing, auth header parsing and credential rules: no registry needed. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseWwwAuthenticate, resolveCredentials } from '../../src/oci/auth.js';
import {
  formatOciReference,
  isLoopbackHost,
  isOciError,
  OCI_EMPTY_DIGEST,
  OCI_ERROR_CODES,
  parseOciReference,
} from '../../src/oci/index.js';

const HEX = 'a'.repeat(64);

describe('parseOciReference', () => {
  it('parses host, port, nested repository, tag and digest', () => {
    expect(parseOciReference('oci://ghcr.io/acme/packs/weather:1.2.0')).toEqual({
      registry: 'ghcr.io',
      hostname: 'ghcr.io',
      port: undefined,
      repository: 'acme/packs/weather',
      tag: '1.2.0',
      digest: undefined,
    });
    expect(parseOciReference(`oci://127.0.0.1:5000/x@sha256:${HEX}`)).toMatchObject({
      registry: '127.0.0.1:5000',
      port: 5000,
      repository: 'x',
      tag: undefined,
      digest: `sha256:${HEX}`,
    });
    expect(parseOciReference(`oci://[::1]:5000/a/b:t@sha256:${HEX}`)).toMatchObject({
      registry: '[::1]:5000',
      hostname: '::1',
      repository: 'a/b',
      tag: 't',
      digest: `sha256:${HEX}`,
    });
    expect(parseOciReference('oci://LocalHost:5000/a/b')).toMatchObject({
      registry: 'localhost:5000',
      tag: undefined,
      digest: undefined,
    });
    expect(parseOciReference('oci://registry/a__b/c-d.e_f--g:v1.0-rc_1').repository).toBe('a__b/c-d.e_f--g');
  });

  it('formats a reference back to the same text', () => {
    for (const text of [
      'oci://ghcr.io/acme/packs/weather:1.2.0',
      `oci://127.0.0.1:5000/x@sha256:${HEX}`,
      `oci://[::1]:5000/a/b:t@sha256:${HEX}`,
    ]) {
      expect(formatOciReference(parseOciReference(text))).toBe(text);
    }
  });

  it.each([
    ['ghcr.io/acme/x:1', 'must start with "oci://"'],
    ['https://ghcr.io/acme/x:1', 'must start with "oci://"'],
    ['oci://ghcr.io', 'no repository'],
    ['oci://ghcr.io/', 'repository is empty'],
    ['oci:///x:1', 'host is empty'],
    ['oci://ghcr.io/Acme/x', 'lower-case'],
    ['oci://ghcr.io//x', 'lower-case'],
    ['oci://ghcr.io/x/', 'lower-case'],
    ['oci://ghcr.io/x:', 'tag ""'],
    ['oci://ghcr.io/x:-bad', 'tag "-bad"'],
    [`oci://ghcr.io/x:${'t'.repeat(129)}`, 'tag'],
    [`oci://ghcr.io/${'a'.repeat(256)}:1`, 'longer than 255'],
    ['oci://ghcr.io/x@sha256:abc', 'must be "sha256:" and 64'],
    [`oci://ghcr.io/x@sha256:${'A'.repeat(64)}`, 'must be "sha256:" and 64'],
    [`oci://ghcr.io/x@sha512:${'a'.repeat(128)}`, 'only sha256'],
    ['oci://ghcr.io:0/x', 'port "0"'],
    ['oci://ghcr.io:99999/x', 'port "99999"'],
    ['oci://ghcr.io:http/x', 'port "http"'],
    ['oci://gh_cr.io/x', 'not a valid host name'],
    ['oci://-ghcr.io/x', 'not a valid host name'],
    ['oci://[::1/x', 'unterminated IPv6'],
    ['oci://[nope]/x', 'not an IPv6 address'],
    ['oci://ghcr.io/x y:1', 'white space'],
    ['oci://ghcr.io/x:1\n', 'white space'],
  ])('rejects %j (GT_PACK_OCI_REF)', (text, why) => {
    let caught: unknown;
    try {
      parseOciReference(text);
    } catch (err) {
      caught = err;
    }
    expect(isOciError(caught, 'GT_PACK_OCI_REF')).toBe(true);
    expect((caught as Error).message).toContain(why);
    expect((caught as Error).message).toContain('oci://host[:port]/repo');
  });

  it('rejects credentials inside the reference without repeating them', () => {
    let caught: unknown;
    try {
      parseOciReference('oci://user:hunter2@ghcr.io/x:1');
    } catch (err) {
      caught = err;
    }
    expect(isOciError(caught, 'GT_PACK_OCI_REF')).toBe(true);
    expect((caught as Error).message).not.toContain('hunter2');
    expect((caught as Error).message).toContain('GREENTIC_OCI_USERNAME');
    expect((caught as { reference?: string }).reference).toBeUndefined();
  });
});

describe('isLoopbackHost', () => {
  it('accepts localhost, 127.0.0.0/8 and ::1 only', () => {
    for (const h of [
      'localhost',
      'LOCALHOST',
      'registry.localhost',
      '127.0.0.1',
      '127.1.2.3',
      '::1',
      '[::1]',
    ]) {
      expect(isLoopbackHost(h)).toBe(true);
    }
    for (const h of ['ghcr.io', '10.0.0.1', '128.0.0.1', '::2', 'localhost.example.com', '0.0.0.0']) {
      expect(isLoopbackHost(h)).toBe(false);
    }
  });
});

describe('parseWwwAuthenticate', () => {
  it('reads a bearer challenge whose scope contains commas', () => {
    expect(
      parseWwwAuthenticate(
        'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push"',
      ),
    ).toEqual([
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.example.com/token',
          service: 'registry.example.com',
          scope: 'repository:a/b:pull,push',
        },
      },
    ]);
  });

  it('splits several challenges and reads unquoted and escaped values', () => {
    expect(
      parseWwwAuthenticate('Basic realm="a \\"b\\"", Bearer realm=https://x/t, error=invalid_token'),
    ).toEqual([
      { scheme: 'basic', params: { realm: 'a "b"' } },
      { scheme: 'bearer', params: { realm: 'https://x/t', error: 'invalid_token' } },
    ]);
    expect(parseWwwAuthenticate('')).toEqual([]);
  });
});

describe('resolveCredentials', () => {
  const env = {
    GREENTIC_OCI_USERNAME: 'envuser',
    GREENTIC_OCI_PASSWORD: 'envpw',
    GREENTIC_OCI_TOKEN: 'envtok',
  };

  it('prefers explicit options over the environment', () => {
    expect(resolveCredentials({ username: 'u', password: 'p' }, env)).toEqual({
      username: 'u',
      password: 'p',
      token: undefined,
    });
    expect(resolveCredentials({ token: 't' }, env)).toEqual({
      username: undefined,
      password: '',
      token: 't',
    });
  });

  it('falls back to GREENTIC_OCI_* and treats empty strings as unset', () => {
    expect(resolveCredentials({}, env)).toEqual({ username: 'envuser', password: 'envpw', token: 'envtok' });
    expect(
      resolveCredentials({ username: '' }, { GREENTIC_OCI_USERNAME: '', GREENTIC_OCI_TOKEN: '' }),
    ).toEqual({
      username: undefined,
      password: undefined,
      token: undefined,
    });
  });
});

describe('constants and codes', () => {
  it('has the digest of the empty config blob "{}"', () => {
    expect(OCI_EMPTY_DIGEST).toBe(`sha256:${createHash('sha256').update('{}').digest('hex')}`);
  });

  it('has unique GT_PACK_OCI_* error codes', () => {
    expect(new Set(OCI_ERROR_CODES).size).toBe(OCI_ERROR_CODES.length);
    for (const code of OCI_ERROR_CODES) expect(code).toMatch(/^GT_PACK_OCI_[A-Z_]+$/);
  });
});
