import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { buildPack } from './build.js';
import { devKeyPaths } from './cli-home.js';
import { formatProblem, PackError, type PackProblem, problemToJSON } from './errors.js';
import { generateKeyPair, loadSigningKey, publicKeyToPem } from './keys.js';
import { type LintReport, lintFile, MANIFEST_KINDS, type ManifestKind } from './lint.js';
import { runOciCommand } from './oci/cli.js';
import { readPack, signPack, verifyPack } from './read.js';

/**
 * `packc`: build, sign, verify, inspect and lint Greentic packs, and push/pull them to/from OCI registries.
 * `runPackc` runs in-process (tests call it); `bin/packc.js` is a shim around it. Results go to stdout, progress
 * and diagnostics to stderr.
 *
 * Exit codes: 0 success; 1 the pack or manifest is invalid, verification failed, or a registry operation
 * failed; 2 the command could not run (bad usage, a file that does not exist, output that exists).
 */

export interface Writer {
  write(chunk: string): unknown;
}
export interface PackcIO {
  stdout: Writer;
  stderr: Writer;
  /**
   * Environment (SOURCE_DATE_EPOCH, GREENTIC_HOME for the dev key, GREENTIC_OCI_* credentials,
   * GREENTIC_PACK_CACHE_DIR); defaults to `process.env`.
   */
  env?: Record<string, string | undefined>;
  /** `push --password-stdin` reads it. Default: `process.stdin`. */
  stdin?: AsyncIterable<Uint8Array | string>;
  /** Base of relative paths of push/pull. Default: `process.cwd()`. */
  cwd?: string;
  /** The `fetch` registry requests use (tests inject one). */
  fetch?: typeof fetch;
}

/** The registry commands, run by `runOciCommand` (src/oci/cli.ts). */
const OCI_COMMANDS: Record<string, string> = {
  push: 'push a .gtpack (or, with --component, a Wasm component) to an OCI registry; prints the pinned reference',
  pull: 'pull a pack pinned by digest from an OCI registry, verify its sha256 and cache it',
  resolve: 'resolve an OCI tag to its digest-pinned reference',
};

/** Reads a pack's id and version for the push annotations; an invalid pack is refused (integrity, not trust). */
async function describePack(bytes: Uint8Array): Promise<{ id: string; version: string }> {
  const pack = await readPack(bytes, { allowUnsigned: true });
  return { id: pack.manifest.pack_id, version: pack.manifest.version };
}

/**
 * A hint for a build that failed because a component's Wasm (or manifest) is missing: packc packs built
 * components, it does not compile them.
 */
function missingComponentHint(problems: readonly PackProblem[]): string | undefined {
  for (const p of problems) {
    const m = /component (?:Wasm file|manifest) (.+?) does not exist;/.exec(p.message);
    if (!m) continue;
    const dir = dirname(m[1]!);
    const project = basename(dir) === 'dist' ? dirname(dir) : dir;
    const command = existsSync(join(project, 'component.manifest.json'))
      ? `greentic-component build ${relative(process.cwd(), project) || '.'}`
      : 'greentic-component build <component project>';
    return `component ${m[1]} is not built yet: build it first (${command}), then run packc build again`;
  }
  return undefined;
}

export const EXIT_OK = 0;
export const EXIT_PROBLEMS = 1;
export const EXIT_USAGE = 2;

class UsageError extends Error {}

function packageVersion(): string {
  try {
    return (
      (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string })
        .version ?? '0.0.0'
    );
  } catch {
    return '0.0.0';
  }
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function signedAtFrom(env: Record<string, string | undefined>): Date | undefined {
  const epoch = env.SOURCE_DATE_EPOCH;
  if (epoch === undefined || epoch === '') return undefined;
  if (!/^\d+$/.test(epoch))
    throw new UsageError(`SOURCE_DATE_EPOCH must be a number of seconds (got ${JSON.stringify(epoch)})`);
  return new Date(Number(epoch) * 1000);
}

async function mustExist(path: string, what: string): Promise<void> {
  if (!(await stat(path).catch(() => undefined))) throw new UsageError(`${what} ${path} does not exist`);
}

const BUILD_HELP = `
Validates everything pack.yaml references — every flow loads and lints without errors, every component
manifest is valid and targets a supported WIT world, every file, flow, component and secret exists, no id
twice — then writes a deterministic .gtpack (stored ZIP, sorted entries, fixed times and modes, BLAKE3 SBOM).
With --sign the signature is stored inside the archive (signatures/pack.sig).

Set SOURCE_DATE_EPOCH to fix the signing time for reproducible signed builds.

Examples:
  $ packc build -p pack.yaml -o dist/hello.gtpack
  $ packc build -p pack.yaml -o dist/hello.gtpack --sign keys/signing.key.pem
  $ packc build -p pack.yaml -o dist/hello.gtpack --json | jq .archive_digest
`;

const SIGN_HELP = `
Adds an Ed25519 signature to a pack (in place, or into --out). The pack must verify first. A signature by the
same key is replaced; other keys' signatures are kept (key rotation) unless --replace.

Examples:
  $ packc sign -p dist/hello.gtpack --key keys/signing.key.pem
  $ packc sign -p dist/hello.gtpack                  # with the dev key (packc keygen)
  $ packc sign -p dist/hello.gtpack --key keys/new.key.pem --key-id release-2026
  $ packc sign -p dist/hello.gtpack --key keys/new.key.pem --replace -o dist/hello.signed.gtpack
`;

const VERIFY_HELP = `
Checks a pack before anything in it is parsed: size limits, entry names and types, compression, CRCs,
signatures against the trust store, and every file against the BLAKE3 SBOM (nothing missing, nothing extra).
A signature by a trusted key is required unless --allow-unsigned.

Examples:
  $ packc verify -p dist/hello.gtpack --trust keys/signing.pub.pem
  $ packc verify -p dist/hello.gtpack --trust /etc/greentic/trusted-keys/
  $ packc verify -p dist/hello.gtpack --allow-unsigned --json
`;

const KEYGEN_HELP = `
Writes a new Ed25519 key pair: the private key as PKCS#8 PEM (mode 0600) and the public key as SPKI PEM.
Given a directory, writes <dir>/signing.key.pem and <dir>/signing.pub.pem; given a file name, writes the
private key there and the public key beside it (<name>.pub.pem). Never prints the private key.
Keys from "openssl genpkey -algorithm ed25519" work too.

Without --out, sets up the dev key: $GREENTIC_HOME/keys/dev.key.pem and dev.pub.pem (GREENTIC_HOME defaults
to ~/.greentic), and trusts its public half by copying it to $GREENTIC_HOME/trust/dev.pub.pem, the trust
store greentic-runner load reads. An existing dev key is kept (and trusted again) unless --force.

Examples:
  $ packc keygen
  $ packc keygen --out keys/
  $ packc keygen --out keys/release.key.pem
`;

const INSPECT_HELP = `
Verifies a pack's integrity (signatures need not be trusted) and lists its files, flows, components and
signature status.

Examples:
  $ packc inspect dist/hello.gtpack
  $ packc inspect dist/hello.gtpack --trust keys/signing.pub.pem --json
`;

const LINT_HELP = `
Validates manifests: pack.yaml, component.manifest.json (greentic-component v1 or a pack component
descriptor), pack.lock.json, an MCP toolmap (toolmap.json/yaml), a flow resolve sidecar (*.resolve.json).
The kind comes from the file name, or --kind. A pack.yaml is checked with everything it references (flows,
components, assets) unless --manifest-only. Prints "file:line:col CODE severity: message" per problem.

Examples:
  $ packc lint pack.yaml
  $ packc lint --manifest-only pack.yaml components/echo/component.manifest.json pack.lock.json
  $ packc lint --kind component manifest.json --json
`;

function printProblems(problems: readonly PackProblem[], out: Writer): void {
  for (const p of problems) out.write(`${formatProblem(p)}\n`);
}

function errorJSON(err: PackError): Record<string, unknown> {
  return {
    ok: false,
    error: { code: err.code, message: err.message },
    problems: err.problems.map(problemToJSON),
  };
}

export async function runPackc(
  argv: readonly string[],
  io: PackcIO = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  let exitCode = EXIT_OK;
  const env = io.env ?? process.env;
  let json = false;
  const progress = (line: string) => {
    io.stderr.write(`packc: ${line}\n`);
  };
  const program = new Command('packc')
    .description('Build, sign, verify, inspect and lint Greentic packs (.gtpack)')
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showSuggestionAfterError()
    .addHelpText(
      'after',
      `
Examples:
  $ packc keygen                   # dev key in ~/.greentic/keys/, its public half trusted in ~/.greentic/trust/
  $ packc keygen --out keys/
  $ packc build -p pack.yaml -o dist/hello.gtpack --sign keys/signing.key.pem
  $ packc verify -p dist/hello.gtpack --trust keys/signing.pub.pem
  $ packc inspect dist/hello.gtpack
  $ packc lint --manifest-only pack.yaml
  $ packc push dist/hello.gtpack oci://ghcr.io/acme/packs/hello:0.1.0
  $ packc pull oci://ghcr.io/acme/packs/hello@sha256:3f5c… -o hello.gtpack
  $ packc resolve oci://ghcr.io/acme/packs/hello:0.1.0

"packc <command> --help" shows each command's options and examples.
`,
    );

  program
    .command('build')
    .description('validate a pack.yaml and everything it references, and write a .gtpack')
    .requiredOption('-p, --pack <pack.yaml>', 'the pack manifest')
    .option('-o, --out <file.gtpack>', 'output file (default: <pack dir>/dist/<pack_id>.gtpack)')
    .option('--sign <key.pem>', 'sign with this Ed25519 private key (PKCS#8 PEM)')
    .option('--key-id <id>', 'label stored with the signature (default: the key fingerprint)')
    .option('--json', 'print one JSON document instead of text')
    .addHelpText('after', BUILD_HELP)
    .action(async (o: { pack: string; out?: string; sign?: string; keyId?: string; json?: boolean }) => {
      json = o.json === true;
      await mustExist(o.pack, 'pack manifest');
      if (o.sign !== undefined) await mustExist(o.sign, 'signing key');
      let out = o.out;
      if (out === undefined) {
        const { parsePackYaml } = await import('./manifest.js');
        const id =
          parsePackYaml(readFileSync(o.pack, 'utf8'), o.pack).config?.pack_id || basename(dirname(o.pack));
        out = join(dirname(o.pack), 'dist', `${id}.gtpack`);
      }
      const signedAt = signedAtFrom(env);
      const r = await buildPack(o.pack, {
        out,
        onProgress: progress,
        ...(o.sign !== undefined ? { signingKey: o.sign } : {}),
        ...(o.keyId !== undefined ? { keyId: o.keyId } : {}),
        ...(signedAt ? { signedAt } : {}),
      });
      if (json) {
        io.stdout.write(
          `${JSON.stringify(
            {
              ok: true,
              out: r.out,
              size: r.bytes.length,
              archive_digest: r.archiveDigest,
              pack_digest: r.packDigest,
              signed: r.signed,
              pack_id: r.manifest.pack_id,
              version: r.manifest.version,
              flows: r.manifest.flows.map((f) => f.id),
              components: r.manifest.components.map((c) => c.id),
              files: r.files,
              warnings: r.warnings.map(problemToJSON),
            },
            null,
            2,
          )}\n`,
        );
      } else {
        printProblems(r.warnings, io.stderr);
        io.stdout.write(
          `built ${r.out} (${r.files.length} files, ${r.bytes.length} bytes, ${r.signed ? 'signed' : 'unsigned'}) ${r.archiveDigest}\n`,
        );
      }
    });

  program
    .command('sign')
    .description('sign a .gtpack (the signature is stored inside it)')
    .requiredOption('-p, --pack <file.gtpack>', 'the pack to sign')
    .option(
      '--key <key.pem>',
      'Ed25519 private key (PKCS#8 PEM); default: the dev key $GREENTIC_HOME/keys/dev.key.pem (packc keygen)',
    )
    .option('--key-id <id>', 'label stored with the signature (default: the key fingerprint)')
    .option('--replace', 'drop every existing signature (default: keep other keys\u2019 signatures)')
    .option('-o, --out <file.gtpack>', 'write the signed pack here instead of in place')
    .option('--json', 'print one JSON document instead of text')
    .addHelpText('after', SIGN_HELP)
    .action(
      async (o: {
        pack: string;
        key?: string;
        keyId?: string;
        replace?: boolean;
        out?: string;
        json?: boolean;
      }) => {
        json = o.json === true;
        await mustExist(o.pack, 'pack');
        let key = o.key;
        if (key === undefined) {
          key = devKeyPaths(env).privateKey;
          if (!existsSync(key))
            throw new UsageError(
              `no --key given and there is no dev key at ${key}; create one with "packc keygen" or pass --key <key.pem>`,
            );
          progress(`signing with the dev key ${key}`);
        }
        await mustExist(key, 'signing key');
        const signedAt = signedAtFrom(env);
        const r = await signPack(o.pack, key, {
          ...(o.out !== undefined ? { out: o.out } : {}),
          ...(o.keyId !== undefined ? { keyId: o.keyId } : {}),
          ...(o.replace ? { replace: true } : {}),
          ...(signedAt ? { signedAt } : {}),
        });
        if (json) {
          io.stdout.write(
            `${JSON.stringify({ ok: true, out: r.out, archive_digest: r.archiveDigest, signature: r.signature }, null, 2)}\n`,
          );
        } else {
          const keys = r.signature.signatures.map((s) => `${s.key_id} (${s.key_fingerprint})`).join(', ');
          io.stdout.write(`signed ${r.out}: ${r.signature.signatures.length} signature(s): ${keys}\n`);
        }
      },
    );

  program
    .command('verify')
    .description('verify a .gtpack: limits, archive structure, signatures, SBOM')
    .requiredOption('-p, --pack <file.gtpack>', 'the pack to verify')
    .option(
      '--trust <dir|key.pem>',
      'trusted public key (SPKI PEM) or a directory of them; repeatable',
      collect,
    )
    .option(
      '--allow-unsigned',
      'accept a pack without a trusted signature (signatures present must still verify)',
    )
    .option('--json', 'print one JSON document instead of text')
    .addHelpText('after', VERIFY_HELP)
    .action(async (o: { pack: string; trust?: string[]; allowUnsigned?: boolean; json?: boolean }) => {
      json = o.json === true;
      await mustExist(o.pack, 'pack');
      for (const t of o.trust ?? []) await mustExist(t, 'trust store');
      const r = await verifyPack(o.pack, {
        ...(o.trust ? { trust: o.trust } : {}),
        allowUnsigned: o.allowUnsigned === true,
      });
      if (json) {
        io.stdout.write(
          `${JSON.stringify(
            {
              ok: true,
              archive_digest: r.archiveDigest,
              size: r.size,
              files: r.sbom.files.length,
              signed: r.signature.signed,
              trusted: r.signature.trusted,
              signatures: r.signature.signatures,
              pack_digest: r.signature.digest,
              warnings: r.warnings,
            },
            null,
            2,
          )}\n`,
        );
      } else {
        for (const w of r.warnings) io.stderr.write(`packc: warning: ${w}\n`);
        const sig = r.signature.trusted
          ? `signed by trusted key ${r.signature.signatures.find((s) => s.trusted)?.key_id}`
          : r.signature.signed
            ? 'signed, by no trusted key'
            : 'unsigned';
        io.stdout.write(`ok ${o.pack}: ${r.sbom.files.length} files verified, ${sig}; ${r.archiveDigest}\n`);
      }
    });

  program
    .command('keygen')
    .description('create an Ed25519 signing key pair (PKCS#8 / SPKI PEM)')
    .option(
      '--out <dir|file>',
      'a directory, or the private key file name (default: the dev key in $GREENTIC_HOME/keys/)',
    )
    .option('--force', 'overwrite existing key files')
    .option('--json', 'print one JSON document instead of text')
    .addHelpText('after', KEYGEN_HELP)
    .action(async (o: { out?: string; force?: boolean; json?: boolean }) => {
      json = o.json === true;
      if (o.out === undefined) {
        const dev = devKeyPaths(env);
        let created = false;
        let fingerprint: string;
        let publicKeyPem: string;
        if (!o.force && existsSync(dev.privateKey)) {
          const key = await loadSigningKey(await readFile(dev.privateKey, 'utf8'));
          fingerprint = key.fingerprint;
          publicKeyPem = publicKeyToPem(key.publicKey);
        } else {
          const pair = await generateKeyPair();
          await mkdir(dirname(dev.privateKey), { recursive: true, mode: 0o700 });
          await writeFile(dev.privateKey, pair.privateKeyPem, { mode: 0o600 });
          fingerprint = pair.fingerprint;
          publicKeyPem = pair.publicKeyPem;
          created = true;
        }
        await writeFile(dev.publicKey, publicKeyPem, { mode: 0o644 });
        await mkdir(dirname(dev.trusted), { recursive: true });
        await copyFile(dev.publicKey, dev.trusted);
        if (json) {
          io.stdout.write(
            `${JSON.stringify({ ok: true, dev: true, created, private_key: dev.privateKey, public_key: dev.publicKey, trusted: dev.trusted, fingerprint }, null, 2)}\n`,
          );
        } else {
          io.stdout.write(
            `${created ? 'dev key created' : 'dev key exists'}: ${dev.privateKey} (keep it secret)\npublic key:  ${dev.publicKey}\ntrusted:     ${dev.trusted}\nfingerprint: ${fingerprint}\n`,
          );
        }
        return;
      }
      const isDir = o.out.endsWith('/') || (await stat(o.out).catch(() => undefined))?.isDirectory() === true;
      const privatePath = isDir ? join(o.out, 'signing.key.pem') : o.out;
      const stem = privatePath.replace(/(\.key)?\.pem$/, '');
      const publicPath = `${stem}.pub.pem`;
      if (!o.force) {
        for (const p of [privatePath, publicPath]) {
          if (await stat(p).catch(() => undefined))
            throw new UsageError(`${p} exists; pass --force to overwrite it`);
        }
      }
      const pair = await generateKeyPair();
      await mkdir(dirname(privatePath), { recursive: true });
      await writeFile(privatePath, pair.privateKeyPem, { mode: 0o600 });
      await writeFile(publicPath, pair.publicKeyPem, { mode: 0o644 });
      if (json) {
        io.stdout.write(
          `${JSON.stringify({ ok: true, private_key: privatePath, public_key: publicPath, fingerprint: pair.fingerprint }, null, 2)}\n`,
        );
      } else {
        io.stdout.write(
          `private key: ${privatePath} (keep it secret)\npublic key:  ${publicPath}\nfingerprint: ${pair.fingerprint}\n`,
        );
      }
    });

  program
    .command('inspect')
    .description('verify a pack\u2019s integrity and list its files, flows, components and signatures')
    .argument('<file.gtpack>', 'the pack')
    .option('--trust <dir|key.pem>', 'trusted public key or directory, to report trust; repeatable', collect)
    .option('--json', 'print one JSON document instead of text')
    .addHelpText('after', INSPECT_HELP)
    .action(async (file: string, o: { trust?: string[]; json?: boolean }) => {
      json = o.json === true;
      await mustExist(file, 'pack');
      const pack = await readPack(file, { allowUnsigned: true, ...(o.trust ? { trust: o.trust } : {}) });
      const m = pack.manifest;
      const doc = {
        ok: true,
        pack_id: m.pack_id,
        name: m.name,
        version: m.version,
        kind: m.kind,
        publisher: m.publisher,
        archive_digest: pack.archiveDigest,
        files: pack.sbom.files.map((f) => ({
          path: f.path,
          size: f.size,
          media_type: f.media_type,
          hash_blake3: f.hash_blake3,
        })),
        flows: m.flows.map((f) => ({
          id: f.id,
          kind: f.kind,
          file: f.file,
          nodes: Object.keys(pack.flows.get(f.id)?.nodes ?? {}).length,
          start: f.start,
          tags: f.tags,
          entrypoints: f.entrypoints,
        })),
        components: m.components.map((c) => ({
          id: c.id,
          version: c.version,
          world: c.world,
          size: pack.components.get(c.id)?.wasm.length,
          manifest_format: c.manifest_format,
        })),
        assets: m.assets.map((a) => a.path),
        dependencies: m.dependencies,
        capabilities: m.capabilities.map((c) => c.name),
        secret_requirements: m.secret_requirements.map((s) => s.key),
        signature: pack.signature,
      };
      if (json) {
        io.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
        return;
      }
      const w = (s: string) => io.stdout.write(`${s}\n`);
      w(`${m.pack_id} ${m.version} (${m.kind}, by ${m.publisher})${m.name ? ` — ${m.name}` : ''}`);
      w(`archive: ${pack.archiveDigest}`);
      const sig = pack.signature;
      w(
        `signature: ${
          sig.signed
            ? `signed (${sig.signatures.map((s) => `${s.key_id}${s.trusted ? ', trusted' : ''}, ${s.signed_at}`).join('; ')})${sig.trusted ? '' : ' — no trusted key'}`
            : 'UNSIGNED'
        }`,
      );
      w('files:');
      for (const f of doc.files) w(`  ${String(f.size).padStart(10)}  ${f.path}  ${f.media_type}`);
      w('flows:');
      for (const f of doc.flows) {
        w(`  ${f.id} (${f.kind}, ${f.nodes} node${f.nodes === 1 ? '' : 's'}, start ${f.start})  ${f.file}`);
      }
      w('components:');
      if (doc.components.length === 0) w('  (none)');
      for (const c of doc.components) w(`  ${c.id} ${c.version}  ${c.world}  ${c.size} bytes`);
      if (doc.assets.length > 0) w(`assets: ${doc.assets.join(', ')}`);
      if (doc.capabilities.length > 0) w(`capabilities: ${doc.capabilities.join(', ')}`);
      if (doc.secret_requirements.length > 0) w(`secrets: ${doc.secret_requirements.join(', ')}`);
    });

  program
    .command('lint')
    .description('validate manifests (pack.yaml, component manifests, locks, toolmaps, resolve sidecars)')
    .argument('<files...>', 'manifest files')
    .option('--manifest-only', 'check the documents alone, not the files they reference')
    .addOption(new Option('--kind <kind>', 'treat every file as this kind').choices([...MANIFEST_KINDS]))
    .option('--json', 'print one JSON document instead of text')
    .addHelpText('after', LINT_HELP)
    .action(async (files: string[], o: { manifestOnly?: boolean; kind?: ManifestKind; json?: boolean }) => {
      json = o.json === true;
      for (const f of files) await mustExist(f, 'file');
      const reports: LintReport[] = [];
      for (const f of files) {
        reports.push(
          await lintFile(f, {
            ...(o.manifestOnly ? { manifestOnly: true } : {}),
            ...(o.kind ? { kind: o.kind } : {}),
          }),
        );
      }
      const ok = reports.every((r) => r.ok);
      if (json) {
        io.stdout.write(
          `${JSON.stringify(
            {
              ok,
              files: reports.map((r) => ({
                file: r.file,
                kind: r.kind,
                ok: r.ok,
                errors: r.errors.map(problemToJSON),
                warnings: r.warnings.map(problemToJSON),
              })),
            },
            null,
            2,
          )}\n`,
        );
      } else {
        let errors = 0;
        let warnings = 0;
        for (const r of reports) {
          printProblems([...r.errors, ...r.warnings], io.stdout);
          errors += r.errors.length;
          warnings += r.warnings.length;
        }
        io.stdout.write(
          `${reports.length} file(s) checked: ${errors} error(s), ${warnings} warning(s) (${ok ? 'ok' : `${reports.filter((r) => !r.ok).length} failed`})\n`,
        );
      }
      exitCode = ok ? EXIT_OK : EXIT_PROBLEMS;
    });

  const runOci = (args: readonly string[]) =>
    runOciCommand(args, {
      stdout: io.stdout,
      stderr: io.stderr,
      env,
      ...(io.stdin ? { stdin: io.stdin } : {}),
      ...(io.cwd ? { cwd: io.cwd } : {}),
      ...(io.fetch ? { fetch: io.fetch } : {}),
      describePack,
    });
  for (const [name, description] of Object.entries(OCI_COMMANDS)) {
    // Registered for `packc --help`; runOciCommand parses their arguments (see the dispatch below).
    program
      .command(name)
      .description(description)
      .helpOption(false)
      .allowUnknownOption()
      .allowExcessArguments()
      .argument('[args...]')
      .action(async (args: string[]) => {
        exitCode = await runOci([name, ...args]);
      });
  }
  // `packc push|pull|resolve …` and `packc help push|pull|resolve` go to runOciCommand untouched, so its own
  // option parser (repeatable --annotation, -o, --password-stdin) sees exactly what was typed.
  const [first, second] = argv;
  if (first !== undefined && first in OCI_COMMANDS) return runOci(argv);
  if (first === 'help' && second !== undefined && second in OCI_COMMANDS) return runOci([second, '--help']);

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    if (err instanceof UsageError || (err instanceof PackError && err.code === 'GT_PACK_USAGE')) {
      if (json)
        io.stdout.write(
          `${JSON.stringify({ ok: false, error: { code: 'GT_PACK_USAGE', message: err.message } })}\n`,
        );
      io.stderr.write(`packc: ${err.message}\n`);
      return EXIT_USAGE;
    }
    if (err instanceof PackError) {
      if (json) io.stdout.write(`${JSON.stringify(errorJSON(err), null, 2)}\n`);
      if (!json && err.problems.length > 1) printProblems(err.problems, io.stderr);
      io.stderr.write(`packc: error ${err.code}: ${err.message}\n`);
      const hint = missingComponentHint(err.problems);
      if (hint) io.stderr.write(`packc: hint: ${hint}\n`);
      return EXIT_PROBLEMS;
    }
    io.stderr.write(`packc: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
    return EXIT_USAGE;
  }
  return exitCode;
}
