import { createHash } from 'node:crypto';
import { blake3 } from '@noble/hashes/blake3.js';
import { ComponentError } from './errors.js';

export type DigestAlgorithm = 'sha256' | 'blake3';

/** `sha256:<hex>` of some bytes: the identity of a component (cache key, instance key). */
export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function digestHex(algorithm: DigestAlgorithm, bytes: Uint8Array): string {
  return algorithm === 'sha256'
    ? createHash('sha256').update(bytes).digest('hex')
    : Buffer.from(blake3(bytes)).toString('hex');
}

/**
 * Reads an expected digest: `sha256:<64 hex>`, `blake3:<64 hex>` (upstream manifests' `hashes.component_wasm`),
 * or 64 bare hex digits (sha256).
 */
export function parseDigest(text: string): { algorithm: DigestAlgorithm; hex: string } {
  const m = /^(?:(sha256|blake3):)?([0-9a-fA-F]{64})$/.exec(text.trim());
  if (!m) {
    throw new ComponentError(
      'GT_COMPONENT_DIGEST',
      `"${text}" is not a digest: write sha256:<64 hex digits> or blake3:<64 hex digits>`,
    );
  }
  return { algorithm: (m[1] ?? 'sha256') as DigestAlgorithm, hex: m[2]!.toLowerCase() };
}

/** Throws `GT_COMPONENT_DIGEST` unless `bytes` have the expected digest. */
export function verifyDigest(
  bytes: Uint8Array,
  expected: string,
  component: string,
  what = 'component',
): void {
  const { algorithm, hex } = parseDigest(expected);
  const actual = digestHex(algorithm, bytes);
  if (actual !== hex) {
    throw new ComponentError(
      'GT_COMPONENT_DIGEST',
      `${what} "${component}" has digest ${algorithm}:${actual}, expected ${algorithm}:${hex}: the file changed or is not the one the pack pinned; rebuild the pack lock or fetch the component again`,
      { component },
    );
  }
}
