import { MessagingError } from './errors.js';

/** A secret given inline or read on demand (from a secrets store, so that rotation needs no restart). */
export type SecretValue = string | (() => string | Promise<string>);

/**
 * The secrets that are live at once: during a rotation both the old and the new one. Any of them passes
 * verification. A function is called on every check, so a secrets store can add and retire secrets live.
 */
export type SecretList = string | readonly string[] | (() => readonly string[] | Promise<readonly string[]>);

export async function resolveSecret(value: SecretValue, what: string): Promise<string> {
  const v = typeof value === 'function' ? await value() : value;
  if (typeof v !== 'string' || v.length === 0) {
    throw new MessagingError(
      'GT_MSG_CONFIG',
      `${what} is empty: set it in the connector config or secrets store`,
    );
  }
  return v;
}

/** The live secrets, empty ones dropped. An empty list fails every verification. */
export async function resolveSecretList(value: SecretList): Promise<string[]> {
  const v = typeof value === 'function' ? await value() : value;
  const list = typeof v === 'string' ? [v] : [...v];
  return list.filter((s) => typeof s === 'string' && s.length > 0);
}

/** True when a secret list is configured as a non-empty literal or as a function (checked at config time). */
export function hasSecrets(value: SecretList | undefined): boolean {
  if (value === undefined) return false;
  if (typeof value === 'function') return true;
  return (typeof value === 'string' ? [value] : value).some((s) => typeof s === 'string' && s.length > 0);
}
