import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CliError, mergeKubeconfig, type KubeconfigDoc } from '../src/index.js';

const incoming = (cluster: string, server = `https://${cluster}.example.com:8443`): KubeconfigDoc => ({
  apiVersion: 'v1',
  kind: 'Config',
  clusters: [{ name: cluster, cluster: { server, 'certificate-authority-data': 'Q0E=' } }],
  users: [{ name: `${cluster}-admin`, user: { 'client-certificate-data': 'Q0VSVA==', 'client-key-data': 'S0VZ' } }],
  contexts: [{ name: cluster, context: { cluster, user: `${cluster}-admin` } }],
  'current-context': cluster,
});

describe('merging a kubeconfig the way kubectl does', () => {
  it('writes a complete block-style kubeconfig into an empty file', () => {
    const text = mergeKubeconfig('', incoming('dev'), 'dev');
    expect(text).not.toMatch(/^\{/);
    expect(text).toMatch(/^clusters:\n- name: dev$/m);
    expect(parse(text)).toEqual({ apiVersion: 'v1', kind: 'Config', ...incoming('dev') });
  });

  it('replaces entries of the same name and keeps the others, their order, comments and other keys', () => {
    const existing = [
      'apiVersion: v1',
      'kind: Config',
      'preferences: {colors: true}',
      'clusters:',
      '- name: prod # the important one',
      '  cluster: {server: "https://prod:6443"}',
      '- name: dev',
      '  cluster: {server: "https://old-dev:8443"}',
      'users: []',
      'contexts:',
      '- name: prod',
      '  context: {cluster: prod, user: prod-user, namespace: web}',
      'current-context: prod',
      'extensions: [{name: x, extension: {a: 1}}]',
      '',
    ].join('\n');
    const text = mergeKubeconfig(existing, incoming('dev'), 'dev');
    const merged = parse(text);
    expect(text).toContain('# the important one');
    expect(merged.clusters).toEqual([
      { name: 'prod', cluster: { server: 'https://prod:6443' } },
      incoming('dev').clusters[0],
    ]);
    expect(merged.users).toEqual(incoming('dev').users);
    expect(merged.contexts[0]).toEqual({
      name: 'prod',
      context: { cluster: 'prod', user: 'prod-user', namespace: 'web' },
    });
    expect(merged['current-context']).toBe('dev');
    expect(merged.preferences).toEqual({ colors: true });
    expect(merged.extensions).toEqual([{ name: 'x', extension: { a: 1 } }]);
  });

  it('fills lists that are null or missing', () => {
    const merged = parse(mergeKubeconfig('apiVersion: v1\nclusters:\ncontexts: ~\n', incoming('a'), 'a'));
    expect(merged.clusters).toHaveLength(1);
    expect(merged.contexts).toHaveLength(1);
    expect(merged.users).toHaveLength(1);
  });

  it('refuses to overwrite a file it cannot read as a kubeconfig', () => {
    expect(() => mergeKubeconfig('clusters: [oops', incoming('a'), 'a', '/k/config')).toThrow(CliError);
    expect(() => mergeKubeconfig('clusters: [oops', incoming('a'), 'a', '/k/config')).toThrow(
      /\/k\/config is not valid YAML/,
    );
    expect(() => mergeKubeconfig('- a\n- b\n', incoming('a'), 'a', '/k/config')).toThrow(/not a kubeconfig/);
    expect(() => mergeKubeconfig('clusters: {a: 1}\n', incoming('a'), 'a', '/k/config')).toThrow(
      /"clusters" is not a list/,
    );
  });
});
