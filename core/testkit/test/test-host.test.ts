import { stat } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { SlipwayError } from '@slipway/contracts';
import { createTestHost, MemoryCredentialProvider } from '../src/index.js';

const ctx = { actor: 'test' };

describe('createTestHost', () => {
  it('gives a temp data dir that cleanup removes, and credentials seeded as asked', async () => {
    const host = await createTestHost({
      credentials: [{ name: '/iaas/key', type: 'json', value: { id: 'AKIA', secret: 's' } }],
      instanceName: 'aws-east',
    });
    expect((await stat(host.dataDir)).isDirectory()).toBe(true);
    expect(host.instanceName).toBe('aws-east');
    expect((await host.credentials.get('/iaas/key', ctx)).value).toEqual({ id: 'AKIA', secret: 's' });
    host.logger.child({ plugin: 'x' }).info('hello', { n: 1 });
    expect(host.logger.lines).toEqual(['info hello {"plugin":"x","n":1}']);
    await host.cleanup();
    await expect(stat(host.dataDir)).rejects.toThrow();
  });
});

describe('MemoryCredentialProvider', () => {
  it('keeps versions, newest first, and reads an older one by id', async () => {
    const provider = new MemoryCredentialProvider();
    const first = await provider.set({ name: '/a/b', type: 'value', value: 'one' }, ctx);
    await provider.set({ name: '/a/b', type: 'value', value: 'two' }, ctx);
    expect((await provider.get('/a/b', ctx)).value).toBe('two');
    expect((await provider.get('/a/b', ctx, { versionId: first.id })).value).toBe('one');
    expect((await provider.getVersions('/a/b', 5, ctx)).map((c) => c.value)).toEqual(['two', 'one']);
  });

  it('finds by path prefix and deletes idempotently', async () => {
    const provider = new MemoryCredentialProvider([
      { name: '/slipway/clusters/1/ca', type: 'value', value: 'x' },
      { name: '/slipway/clusters/10/ca', type: 'value', value: 'y' },
    ]);
    expect((await provider.find({ path: '/slipway/clusters/1' }, ctx)).map((c) => c.name)).toEqual([
      '/slipway/clusters/1/ca',
    ]);
    await provider.delete('/slipway/clusters/1/ca', ctx);
    await provider.delete('/slipway/clusters/1/ca', ctx);
    await expect(provider.get('/slipway/clusters/1/ca', ctx)).rejects.toSatisfy((e: unknown) =>
      SlipwayError.is(e, 'NotFound'),
    );
  });

  it('generates passwords honouring converge, and refuses types it cannot generate', async () => {
    const provider = new MemoryCredentialProvider();
    const one = await provider.generate(
      { name: '/p', type: 'password', parameters: { length: 12, exclude_number: true } },
      ctx,
    );
    expect(one.value).toMatch(/^[A-Za-z]{12}$/);
    const same = await provider.generate(
      { name: '/p', type: 'password', parameters: { length: 12, exclude_number: true } },
      ctx,
    );
    expect(same.value).toBe(one.value);
    const changed = await provider.generate({ name: '/p', type: 'password', parameters: { length: 16 } }, ctx);
    expect(changed.value).toHaveLength(16);
    await expect(
      provider.generate({ name: '/c', type: 'certificate', parameters: { common_name: 'x' } }, ctx),
    ).rejects.toSatisfy((e: unknown) => SlipwayError.is(e, 'Unsupported'));
  });
});
