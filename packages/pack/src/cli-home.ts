import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where Greentic keeps a user's local files (`packc keygen`'s dev key, the runner's trust store and pack store):
 *
 * ```
 * $GREENTIC_HOME (default ~/.greentic)
 *   keys/dev.key.pem    the dev signing key (PKCS#8 PEM, 0600), written by `packc keygen` without --out
 *   keys/dev.pub.pem    its public half
 *   trust/*.pem|*.pub   the trust store: public keys whose signatures `greentic-runner load` accepts
 *   trust/dev.pub.pem   the dev key's public half, put there by `packc keygen`
 *   packs/              the runner's pack store (see @greentic/runner)
 * ```
 */
export function defaultGreenticHome(env: Record<string, string | undefined> = process.env): string {
  const home = env.GREENTIC_HOME;
  return home !== undefined && home !== '' ? home : join(env.HOME || homedir(), '.greentic');
}

/** The default trust store directory: `$GREENTIC_HOME/trust`. */
export function trustDir(env: Record<string, string | undefined> = process.env): string {
  return join(defaultGreenticHome(env), 'trust');
}

/** The dev key `packc keygen` writes when no `--out` is given, and where its public half is trusted. */
export function devKeyPaths(env: Record<string, string | undefined> = process.env): {
  privateKey: string;
  publicKey: string;
  trusted: string;
} {
  const home = defaultGreenticHome(env);
  return {
    privateKey: join(home, 'keys', 'dev.key.pem'),
    publicKey: join(home, 'keys', 'dev.pub.pem'),
    trusted: join(home, 'trust', 'dev.pub.pem'),
  };
}
