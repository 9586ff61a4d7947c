import { isIP } from 'node:net';
import { PackError } from '../errors.js';

/** A parsed `oci://host[:port]/repo[:tag|@sha256:<hex>]` reference. */
export interface OciReference {
  /** `host[:port]` as it goes into URLs (lower-cased; IPv6 literals keep their brackets). */
  registry: string;
  /** The host alone (IPv6 without brackets). */
  hostname: string;
  /** The port, when one was given. */
  port: number | undefined;
  /** Repository path, e.g. `greentic/packs/weather`. */
  repository: string;
  /** The tag, when one was given. */
  tag: string | undefined;
  /** The manifest digest (`sha256:<64 lower-case hex>`), when one was given. */
  digest: string | undefined;
}

const SCHEME = 'oci://';
const HELP = 'expected oci://host[:port]/repo[:tag|@sha256:<64 hex digits>]';
// OCI distribution spec: path components of lower-case alphanumerics joined by ".", "_", "__" or dashes.
const REPO_COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const SHA256 = /^sha256:[a-f0-9]{64}$/;
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const MAX_REPOSITORY = 255;

/** True for `sha256:` followed by exactly 64 lower-case hex digits. */
export function isSha256Digest(value: string): boolean {
  return SHA256.test(value);
}

/** True for `localhost`, 127.0.0.0/8 and ::1: the hosts where plain HTTP is allowed without `insecure`. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1';
  return false;
}

function refError(ref: string, problem: string, shown = true): PackError {
  const what = shown ? `invalid OCI reference ${JSON.stringify(ref)}` : 'invalid OCI reference';
  return new PackError('GT_PACK_OCI_REF', `${what}: ${problem}; ${HELP}`, shown ? { reference: ref } : {});
}

function parseRegistry(ref: string, text: string): Pick<OciReference, 'registry' | 'hostname' | 'port'> {
  let hostname: string;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end < 0) throw refError(ref, 'unterminated IPv6 literal in the host');
    hostname = text.slice(1, end).toLowerCase();
    const rest = text.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':'))
      throw refError(ref, `unexpected ${JSON.stringify(rest)} after the host`);
    portText = rest === '' ? undefined : rest.slice(1);
    if (isIP(hostname) !== 6) throw refError(ref, `${JSON.stringify(hostname)} is not an IPv6 address`);
  } else {
    const colon = text.indexOf(':');
    hostname = (colon < 0 ? text : text.slice(0, colon)).toLowerCase();
    portText = colon < 0 ? undefined : text.slice(colon + 1);
    if (hostname === '') throw refError(ref, 'the host is empty');
    if (isIP(hostname) !== 4) {
      const labels = hostname.split('.');
      if (hostname.length > 253 || !labels.every((l) => DNS_LABEL.test(l))) {
        throw refError(ref, `${JSON.stringify(hostname)} is not a valid host name`);
      }
    }
  }
  let port: number | undefined;
  if (portText !== undefined) {
    if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
      throw refError(ref, `port ${JSON.stringify(portText)} is not a number from 1 to 65535`);
    }
    port = Number(portText);
  }
  const host = isIP(hostname) === 6 ? `[${hostname}]` : hostname;
  return { registry: port === undefined ? host : `${host}:${port}`, hostname, port };
}

/**
 * Parses and validates an `oci://` reference. A reference may carry a tag, a digest, both (`repo:tag@sha256:…`:
 * the digest wins, the tag is informative) or neither. Throws `GT_PACK_OCI_REF` with the reason.
 */
export function parseOciReference(ref: string): OciReference {
  if (typeof ref !== 'string') throw refError(String(ref), 'not a string');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we reject
  if (/[\s\u0000-\u001f\u007f]/.test(ref)) throw refError(ref, 'contains white space or a control character');
  if (!ref.startsWith(SCHEME)) {
    throw refError(ref, `must start with "${SCHEME}"`);
  }
  const rest = ref.slice(SCHEME.length);
  const slash = rest.indexOf('/');
  if (slash < 0) throw refError(ref, 'names a registry but no repository');
  const registryText = rest.slice(0, slash);
  if (registryText.includes('@')) {
    // user:password@host — never echo it back, it may hold a password.
    throw refError(
      ref,
      'credentials inside the reference are not supported (pass username/password or set GREENTIC_OCI_USERNAME ' +
        'and GREENTIC_OCI_PASSWORD)',
      false,
    );
  }
  const registry = parseRegistry(ref, registryText);

  let path = rest.slice(slash + 1);
  let digest: string | undefined;
  const at = path.indexOf('@');
  if (at >= 0) {
    digest = path.slice(at + 1);
    path = path.slice(0, at);
    if (digest.startsWith('sha256:') && !isSha256Digest(digest)) {
      throw refError(ref, `digest ${JSON.stringify(digest)} must be "sha256:" and 64 lower-case hex digits`);
    }
    if (!isSha256Digest(digest)) {
      throw refError(ref, `digest ${JSON.stringify(digest)} is not supported (only sha256 digests are)`);
    }
  }
  let tag: string | undefined;
  const lastSlash = path.lastIndexOf('/');
  const colon = path.indexOf(':', lastSlash + 1);
  if (colon >= 0) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
    if (!TAG.test(tag)) {
      throw refError(
        ref,
        `tag ${JSON.stringify(tag)} must be 1-128 of [A-Za-z0-9_.-] and not start with "." or "-"`,
      );
    }
  }
  if (path === '') throw refError(ref, 'the repository is empty');
  if (path.length > MAX_REPOSITORY)
    throw refError(ref, `the repository is longer than ${MAX_REPOSITORY} characters`);
  for (const component of path.split('/')) {
    if (!REPO_COMPONENT.test(component)) {
      throw refError(
        ref,
        `repository component ${JSON.stringify(component)} must be lower-case letters and digits, ` +
          'separated by ".", "_", "__" or "-"',
      );
    }
  }
  return { ...registry, repository: path, tag, digest };
}

/** Writes a reference back as `oci://registry/repo[:tag][@digest]`. */
export function formatOciReference(
  ref: Pick<OciReference, 'registry' | 'repository' | 'tag' | 'digest'>,
): string {
  return `${SCHEME}${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** The digest-pinned form `oci://registry/repo@sha256:…` (no tag). */
export function pinnedReference(ref: Pick<OciReference, 'registry' | 'repository'>, digest: string): string {
  return formatOciReference({ registry: ref.registry, repository: ref.repository, tag: undefined, digest });
}
