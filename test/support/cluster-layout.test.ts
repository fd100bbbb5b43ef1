import { KWOK_FAIL_ANNOTATION } from '../../src/mesh/followed-pod.ts';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FAIL_ANNOTATION, withoutFailingPods } from '../../scripts/cluster/kwok-stages.ts';
import {
  BINARIES,
  buildLayout,
  cacheRoot,
  pinnedFiles,
  REPO_ROOT,
  requireBuild,
} from '../../scripts/cluster/layout.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cluster-layout-'));
  dirs.push(dir);
  return dir;
}

describe('test cluster build layout', () => {
  it('refuses a folder without COMPLETE, saying to run npm run cluster:build', () => {
    const layout = buildLayout(scratch());
    expect(() => requireBuild(layout)).toThrow(/no complete build at .*: run `npm run cluster:build`/);
  });

  it('refuses a COMPLETE folder that lacks a program, naming it', () => {
    const layout = buildLayout(scratch());
    mkdirSync(layout.bin, { recursive: true });
    for (const name of BINARIES.filter((n) => n !== 'kwok')) writeFileSync(join(layout.bin, name), '');
    writeFileSync(layout.complete, 'now\n');
    expect(() => requireBuild(layout)).toThrow(/missing kwok\): run `npm run cluster:build`/);
    writeFileSync(join(layout.bin, 'kwok'), '');
    expect(requireBuild(layout)).toBe(layout);
  });

  it('keeps the cache outside the clone: $SPRINCUBE_CLUSTER_CACHE, else $XDG_CACHE_HOME or ~/.cache', () => {
    expect(cacheRoot({ SPRINCUBE_CLUSTER_CACHE: '/var/cache/x' })).toBe('/var/cache/x');
    expect(cacheRoot({ XDG_CACHE_HOME: '/c' })).toBe('/c/sprincube-canary/cluster');
    expect(cacheRoot({}).startsWith(REPO_ROOT)).toBe(false);
  });

  it('hashes every wrapper go.mod and go.sum, the project-made CRD and the build scripts, not the start-time config', () => {
    const files = pinnedFiles();
    for (const module of ['kube', 'etcd', 'kwok', 'crds']) {
      expect(files).toContain(`cluster/${module}/go.mod`);
      expect(files).toContain(`cluster/${module}/go.sum`);
    }
    expect(files).toContain('cluster/crds/k6-testrun.yaml');
    expect(files.filter((f) => f.startsWith('cluster/config/'))).toEqual([]);
    expect(files).toContain('scripts/cluster/build.ts');
  });
});

describe('KWOK stages', () => {
  const stage = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-ready
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.status.phase'
      operator: 'In'
      values:
      - 'Pending'
  next:
    statusTemplate: |
      phase: Running
`;

  it('keeps the default pod-ready stage off a pod annotated to fail, and changes nothing else', () => {
    const out = parse(withoutFailingPods(stage));
    expect(out.spec.selector.matchExpressions).toEqual([
      { key: '.status.phase', operator: 'In', values: ['Pending'] },
      { key: `.metadata.annotations["${FAIL_ANNOTATION}"]`, operator: 'DoesNotExist' },
    ]);
    expect(out.spec.next.statusTemplate).toBe('phase: Running\n');
  });

  it('refuses a stage without a selector to extend', () => {
    expect(() => withoutFailingPods('kind: Stage\nspec: {}\n')).toThrow(/no spec.selector.matchExpressions/);
  });

  it('the data plane marks a pod with the annotation the stage selects', () => {
    expect(KWOK_FAIL_ANNOTATION).toBe(FAIL_ANNOTATION);
  });

  it('the ImagePullBackOff stage selects the annotation and outweighs the defaults (weight 0)', () => {
    const own = parse(readFileSync(join(REPO_ROOT, 'cluster/config/kwok/pod-image-pull-backoff.yaml'), 'utf8'));
    expect(own.spec.weight).toBeGreaterThan(0);
    // Also a pod KWOK already made Running: the data plane may annotate it only after that.
    expect(own.spec.selector.matchExpressions).toContainEqual({
      key: '.status.phase',
      operator: 'In',
      values: ['Pending', 'Running'],
    });
    expect(own.spec.selector.matchExpressions).toContainEqual({
      key: `.metadata.annotations["${FAIL_ANNOTATION}"]`,
      operator: 'In',
      values: ['ImagePullBackOff'],
    });
  });
});
