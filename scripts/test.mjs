// The whole test suite: type-check, lint, then every vitest project. Prints one summary line
// "tests: N passed, N failed, N skipped" so that CI logs read the same whatever the runner.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (n) => join(root, 'node_modules', '.bin', n);
process.env.DEBIAN_FRONTEND ??= 'noninteractive';
const run = (cmd, args) => spawnSync(cmd, args, { stdio: 'inherit', cwd: root }).status ?? 1;
const step = (m) => process.stderr.write(`\n[test] ${m}\n`);

step('test machine: Debian packages the suite drives (Chromium, an OCI registry, skopeo, docker-compose)');
// docker-compose validates docker/compose.yaml (`docker-compose config`; no engine is needed for that)
if (spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status !== 0) {
  const apt = (args) => run('apt-get', args);
  if (
    process.getuid?.() !== 0 ||
    (apt(['install', '-y', '--no-install-recommends', 'docker-compose']) !== 0 &&
      (apt(['update']) !== 0 || apt(['install', '-y', '--no-install-recommends', 'docker-compose']) !== 0))
  ) {
    process.stderr.write(
      '[test] docker-compose is missing and could not be installed (apt-get install docker-compose, as root)\n',
    );
    process.exit(1);
  }
}
// Installed here, before any test runs, so no test spends its time budget in apt-get.
for (const script of [['scripts/ensure-chromium.mjs'], ['scripts/oci-registry.mjs', 'install']]) {
  if (run(process.execPath, script) !== 0) {
    process.stderr.write(`[test] ${script.join(' ')} failed: the browser and registry tests need it\n`);
    process.exit(1);
  }
}

step('lint (biome)');
// A lint failure fails the run, but the tests still run so one CI run reports both.
const lintFailed = run(bin('biome'), ['check', '.']) !== 0;

step('unit, contract and integration tests (vitest)');
mkdirSync(join(root, 'test-artifacts'), { recursive: true });
const report = join(root, 'test-artifacts', 'vitest.json');
const code = run(bin('vitest'), [
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${report}`,
  ...process.argv.slice(2),
]);
if (existsSync(report)) {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  process.stdout.write(
    `\ntests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped\n`,
  );
  if (r.numTotalTests === 0) {
    process.stderr.write('no test ran: treating as failure\n');
    process.exit(1);
  }
}
if (lintFailed) process.stderr.write('\n[test] lint (biome check .) failed: see above\n');
process.exit(code !== 0 ? code : lintFailed ? 1 : 0);
