import { describe, expect, it } from 'vitest';
import { MemorySecretsProvider } from './memory.js';
import { secretsProviderContract } from './testing/index.js';

secretsProviderContract('memory', async () => ({ provider: new MemorySecretsProvider() }));

describe('MemorySecretsProvider', () => {
  it('takes initial secrets', async () => {
    const p = new MemorySecretsProvider({ secrets: { 'secrets://dev/acme/_/configs/a': 'one' } });
    expect((await p.get('secrets://dev/acme/_/configs/a@1'))!.value.revealText()).toBe('one');
  });

  it('stamps versions with its clock', async () => {
    const p = new MemorySecretsProvider({ now: () => Date.UTC(2030, 0, 2) });
    await p.put('secrets://dev/acme/_/configs/a', 'x');
    expect((await p.versions('secrets://dev/acme/_/configs/a'))[0]!.created_at).toBe(
      '2030-01-02T00:00:00.000Z',
    );
  });
});
