import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Command and arguments that start the stdio fixture server from TypeScript sources. */
export function stdioFixture(): { command: string; args: string[] } {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return {
    command: process.execPath,
    args: ['--conditions=@greentic/source', '--import', tsx, join(here, 'fixtures', 'stdio-server.ts')],
  };
}
