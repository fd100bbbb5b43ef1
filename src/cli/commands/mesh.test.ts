/** `canary mesh up`'s choice of source: files by default, a cluster with both cluster flags, never both; `--prometheus` only with a cluster. */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../core/errors.ts';
import { meshSource } from './mesh.ts';

describe('canary mesh up: where the data plane reads its objects', () => {
  it('reads manifests/ unless told otherwise, or the directory given', () => {
    expect(meshSource({})).toEqual({ manifestsDir: 'manifests' });
    expect(meshSource({ manifests: 'other' })).toEqual({ manifestsDir: 'other' });
  });

  it('follows a cluster with --kubeconfig and --namespace', () => {
    expect(meshSource({ kubeconfig: '/tmp/k', namespace: 'sprincube' })).toEqual({
      kubeconfig: '/tmp/k',
      namespace: 'sprincube',
    });
  });

  it('takes --prometheus with a cluster', () => {
    expect(meshSource({ kubeconfig: '/tmp/k', namespace: 'sprincube', prometheus: true })).toEqual({
      kubeconfig: '/tmp/k',
      namespace: 'sprincube',
    });
    expect(meshSource({ prometheus: false })).toEqual({ manifestsDir: 'manifests' });
  });

  it.each([
    [
      { manifests: 'manifests', kubeconfig: '/tmp/k', namespace: 'ns' },
      '--manifests: cannot be combined with --kubeconfig/--namespace',
    ],
    [{ manifests: 'manifests', namespace: 'ns' }, '--manifests: cannot be combined with --kubeconfig/--namespace'],
    [{ namespace: 'ns' }, '--namespace: needs --kubeconfig'],
    [{ kubeconfig: '/tmp/k' }, '--kubeconfig: needs --namespace'],
    [{ kubeconfig: '', namespace: 'ns' }, '--kubeconfig: expected a kubeconfig file'],
    [{ kubeconfig: '/tmp/k', namespace: '' }, '--namespace: expected a namespace'],
    [{ prometheus: true }, '--prometheus: needs --kubeconfig and --namespace'],
    [{ manifests: 'manifests', prometheus: true }, '--prometheus: needs --kubeconfig and --namespace'],
  ])('refuses %j naming the flags', (flags, message) => {
    expect(() => meshSource(flags)).toThrow(UsageError);
    expect(() => meshSource(flags)).toThrow(message);
  });
});
