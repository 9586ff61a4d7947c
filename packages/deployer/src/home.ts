import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultGreenticHome, devKeyPaths } from '@greentic/pack';
import { PACK_STORE_DIR_NAME, TRUST_DIR_NAME } from './runner-wiring.js';

/**
 * The files the deployer keeps under the Greentic home (`$GREENTIC_HOME`, default `~/.greentic`). One place, so the
 * layout in docs/deployer.md cannot drift from the code.
 */
export interface GreenticHome {
  root: string;
  /** Master key of the encrypted secrets store: 32 random bytes, base64, mode 0600. */
  masterKey: string;
  /** EncryptedFileSecretsProvider directory (`secrets.store.json`). */
  secretsDir: string;
  /** The dev pack signing key (Ed25519, PKCS#8 PEM, mode 0600). */
  devSigningKey: string;
  /** The trust store the runner reads (SPKI PEM public keys). */
  trustDir: string;
  /** The dev key's public half in the trust store. */
  devPublicKey: string;
  /** Deployer state files, one per environment name. */
  stateDir: string;
  /** Generated artifacts: `deploy/<name>/<target>/…`. */
  deployDir: string;
  /** Packs the deployer builds: `build/packs/<pack_id>-<version>.gtpack` (`packs/` is the runner's pack store). */
  packsDir: string;
  /** The runner's pack store (`packs/`, its default): dev-desktop loads the built packs there for each tenant. */
  packStore: string;
  /** The dev key `packc keygen` writes (`keys/dev.key.pem`): signed with when it exists and ours does not. */
  packcDevKey: string;
  /** Logs of processes the deployer starts (`runner.log`). */
  logsDir: string;
  runnerLog: string;
  /** Pid files. */
  runDir: string;
  runnerPid: string;
  /** `greentic.yaml` written by `init --global`. */
  globalDescription: string;
}

export function greenticHome(
  explicit?: string,
  env: Record<string, string | undefined> = process.env,
): GreenticHome {
  // the same rule as packc and greentic-runner ($GREENTIC_HOME, else $HOME/.greentic)
  const root = resolve(explicit ?? defaultGreenticHome(env));
  const trustDir = join(root, TRUST_DIR_NAME);
  const logsDir = join(root, 'logs');
  const runDir = join(root, 'run');
  return {
    root,
    masterKey: join(root, 'master.key'),
    secretsDir: join(root, 'secrets'),
    devSigningKey: join(root, 'dev-ed25519.pem'),
    trustDir,
    devPublicKey: join(trustDir, 'dev-ed25519.pub.pem'),
    stateDir: join(root, 'deployer'),
    deployDir: join(root, 'deploy'),
    packsDir: join(root, 'build', 'packs'),
    packStore: join(root, PACK_STORE_DIR_NAME),
    packcDevKey: explicit ? join(root, 'keys', 'dev.key.pem') : devKeyPaths(env).privateKey,
    logsDir,
    runnerLog: join(logsDir, 'runner.log'),
    runDir,
    runnerPid: join(runDir, 'runner.pid'),
    globalDescription: join(root, 'greentic.yaml'),
  };
}

/** `/home/ada/.greentic/x` → `~/.greentic/x` for messages. */
export function tildify(path: string): string {
  const home = homedir();
  return path.startsWith(`${home}/`) ? `~${path.slice(home.length)}` : path;
}
