import type { Command } from 'commander';
import type { CliIO } from '../cli.js';
import { loadPackIntoStore } from './load.js';
import { packEntryFlow } from './registry.js';
import { resolvePackSettings } from './settings.js';

const collect = (v: string, prev: string[]) => [...prev, v];

const LOAD_HELP = `
Verifies the pack completely — archive, SBOM, and a signature by a trusted key — before it is installed in the
pack store as the tenant's current pack. Without --tenant the pack becomes the default pack: every tenant that
has no pack of its own runs it. run-flow without --flow runs the entry flow of the tenant's pack.

Trust store: --trust (repeatable), else packs.trust of --config, else $GREENTIC_HOME/trust/ (~/.greentic/trust/;
"packc keygen" puts the dev key's public half there). Pack store: --store, else packs.store, else
$GREENTIC_HOME/packs/. See docs/packs.md#the-runners-pack-store.

--allow-unsigned accepts an unsigned pack (or one signed by no trusted key) with a warning, for development. A
production runner refuses it: GREENTIC_ENV=production (or prod), GREENTIC_RUNNER_ENV=production, or
tenancy.env: production in the --config file.

Examples:
  greentic-runner load --pack dist/weather.gtpack
  greentic-runner load --pack dist/weather.gtpack --tenant acme --trust keys/release.pub.pem
  greentic-runner load --pack oci://ghcr.io/acme/packs/weather@sha256:3f5c… --tenant acme
  greentic-runner load --pack dist/dev.gtpack --allow-unsigned

Exit codes: 0 loaded, 1 the pack was refused (GT_PACK_* code: tampered, unsigned, untrusted, …) or could not be
fetched, 2 bad usage (also --allow-unsigned in production).`;

/** Adds `greentic-runner load` to the CLI. */
export function registerLoad(program: Command, io: CliIO): void {
  program
    .command('load')
    .description(
      "Verify a pack (.gtpack file or oci:// reference) and install it in the local pack store as a tenant's current pack.",
    )
    .requiredOption('--pack <file|oci-ref>', 'a .gtpack file, or oci://host/repo@sha256:… (pinned by digest)')
    .option('--tenant <tenant>', 'install it for this tenant (default: the default pack, for every tenant)')
    .option(
      '--allow-unsigned',
      'accept an unsigned or untrusted pack, with a warning (refused in production)',
    )
    .option(
      '--trust <dir|pem>',
      'trusted public key (SPKI PEM) or directory of them; repeatable',
      collect,
      [],
    )
    .option('--store <dir>', 'pack store (default: $GREENTIC_HOME/packs, i.e. ~/.greentic/packs)')
    .option('--config <file>', 'runner configuration (packs.store, packs.trust, tenancy.env)')
    .option('--allow-tags', 'oci://: accept a tag instead of a digest (tags can move)')
    .option('--insecure', 'oci://: allow plain HTTP to a registry that is not on loopback')
    .option(
      '--json',
      'print one JSON document: {ok, tenant, pack_id, version, digest, path, signed, trusted, …}',
    )
    .addHelpText('after', LOAD_HELP)
    .action(async (o) => {
      const env = io.env ?? process.env;
      const settings = resolvePackSettings({
        env,
        ...(o.config !== undefined ? { configFile: o.config } : {}),
        ...(o.store !== undefined ? { store: o.store } : {}),
        trust: o.trust,
      });
      if (o.allowUnsigned && !settings.production)
        io.stderr(
          'warning: --allow-unsigned: packs without a trusted signature are accepted (development only)\n',
        );
      const r = await loadPackIntoStore({
        pack: o.pack,
        ...(o.tenant !== undefined ? { tenant: o.tenant } : {}),
        allowUnsigned: o.allowUnsigned === true,
        allowTags: o.allowTags === true,
        insecure: o.insecure === true,
        settings,
        env,
        onProgress: (line) => io.stderr(`greentic-runner: ${line}\n`),
      });
      for (const w of r.warnings) io.stderr(`warning: ${w}\n`);
      const who =
        r.tenant === undefined ? 'the default pack (every tenant without its own)' : `tenant ${r.tenant}`;
      const trustedBy = r.ref.signers.find((s) => s.trusted);
      const sig = trustedBy
        ? `signed by trusted key ${trustedBy.key_id}`
        : r.ref.signed
          ? 'signed by NO trusted key'
          : 'UNSIGNED';
      if (o.json) {
        io.stdout(
          `${JSON.stringify(
            {
              ok: true,
              tenant: r.tenant ?? null,
              ...r.ref,
              path: r.path,
              store: settings.storeDir,
              entry_flow: packEntryFlow(r.pack),
              flows: r.pack.manifest.flows.map((f) => f.id),
              components: r.pack.manifest.components.map((c) => c.id),
              previous: r.previous ?? null,
              warnings: r.warnings,
            },
            null,
            2,
          )}\n`,
        );
      } else {
        io.stdout(
          `loaded ${r.ref.pack_id} ${r.ref.version} for ${who}: ${sig}; ${r.ref.digest}\n` +
            (r.previous ? `  (was ${r.previous.pack_id} ${r.previous.version}, ${r.previous.digest})\n` : ''),
        );
      }
    });
}
