// A child process of file-store.test.ts: writes `count` versions of one shared secret and `count` secrets of its
// own into the store at `dir`, as fast as it can, then exits.
import { EncryptedFileSecretsProvider } from '../src/file-store.js';

const [dir, id, count] = process.argv.slice(2) as [string, string, string];
const store = new EncryptedFileSecretsProvider({
  dir,
  masterKey: 'test-master-key-0123456789',
  kdf: { N: 1024 },
});
const n = Number(count);
await Promise.all(
  Array.from({ length: n }, async (_, i) => {
    await store.put('secrets://dev/acme/_/shared/counter', `${id}-${i}`);
    await store.put(`secrets://dev/acme/_/${id}/item-${i}`, `${id}-${i}`);
  }),
);
