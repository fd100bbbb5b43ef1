/**
 * What the plan needs to know about the service under canary, read from `manifests/`: the track
 * workloads, the primary's version and environment, and the VirtualService that routes it. Both
 * engines read the same manifests, so this lives with the platforms rather than in one of them.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ConfigError } from '../core/errors.ts';
import { parseYamlDocuments } from '../core/yaml.ts';
import type { TargetFacts } from '../canary/plan.ts';

interface ManifestObject {
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
}

interface Found {
  file: string;
  object: ManifestObject;
}

/** Reads every `*.yaml`/`*.yml` under `dir` (recursively) and picks out the facts for `service`. */
export function readTargetFacts(dir: string, service: string): TargetFacts & { derivedTracks: boolean } {
  return targetFactsFrom(readObjects(dir), service, dir);
}

/**
 * The tracks of `service`: `<service>-primary`, `-baseline` and `-canary` Deployments when the
 * manifests declare them (the reference `account`); otherwise the service's one Deployment (named
 * like the service) is the primary, and the baseline and canary are copies of it that only the
 * Kubernetes engine creates (`derivedTracks`: the local engine needs all three in the manifests).
 */
export function targetFactsFrom(
  objects: Found[],
  service: string,
  dir: string,
): TargetFacts & { derivedTracks: boolean } {
  const deployment = (name: string) =>
    objects.find((o) => o.object.kind === 'Deployment' && o.object.metadata?.name === name);
  const derivedTracks = !deployment(`${service}-primary`) && deployment(service) !== undefined;
  const tracks = {
    primary: derivedTracks ? service : `${service}-primary`,
    baseline: `${service}-baseline`,
    canary: `${service}-canary`,
  };
  for (const name of derivedTracks ? [tracks.primary] : Object.values(tracks)) {
    if (!deployment(name)) {
      const services = objects.filter((o) => o.object.kind === 'Service').map((o) => o.object.metadata?.name);
      throw new ConfigError(
        dir,
        `Deployment/${name}`,
        `the service under canary needs a Deployment named ${service} or ${service}-primary (with ${service}-baseline and ${service}-canary); services in the manifests: ${services.join(', ')}`,
      );
    }
  }
  const primary = deployment(tracks.primary)!;
  const { primaryVersion: version, primaryEnv: env, primaryImage } = primaryFacts(primary.object);
  if (!version)
    throw new ConfigError(
      primary.file,
      `Deployment/${tracks.primary}`,
      'expected a `version` label or a VERSION variable',
    );

  const vs = objects.find(
    (o) =>
      o.object.kind === 'VirtualService' &&
      Array.isArray(o.object.spec?.hosts) &&
      (o.object.spec.hosts as string[]).includes(service),
  );
  if (!vs)
    throw new ConfigError(
      dir,
      `VirtualService for ${service}`,
      `expected a VirtualService whose hosts include "${service}"`,
    );
  const http = (vs.object.spec?.http ?? []) as { timeout?: string }[];
  return {
    service,
    host: service,
    virtualService: vs.object.metadata?.name ?? service,
    namespace: vs.object.metadata?.namespace ?? primary.object.metadata?.namespace ?? 'default',
    routeTimeout: http[http.length - 1]?.timeout ?? null,
    workloads: tracks,
    primaryVersion: version,
    primaryEnv: env,
    ...(primaryImage !== undefined ? { primaryImage } : {}),
    derivedTracks,
  };
}

/**
 * A primary Deployment's version (its `version` label, else its first container's VERSION), the
 * literal environment and the image of that container; read the same from files and from a cluster.
 */
export function primaryFacts(deployment: { metadata?: { labels?: Record<string, string> }; spec?: unknown }): {
  primaryVersion: string | undefined;
  primaryEnv: Record<string, string>;
  primaryImage?: string;
} {
  const spec = deployment.spec as
    | { template?: { spec?: { containers?: { image?: string; env?: { name: string; value?: string }[] }[] } } }
    | undefined;
  const container = spec?.template?.spec?.containers?.[0];
  const env: Record<string, string> = {};
  for (const e of container?.env ?? []) if (typeof e.value === 'string') env[e.name] = e.value;
  return {
    primaryVersion: deployment.metadata?.labels?.version ?? env.VERSION,
    primaryEnv: env,
    ...(typeof container?.image === 'string' ? { primaryImage: container.image } : {}),
  };
}

function readObjects(dir: string): Found[] {
  let files: string[];
  try {
    files = walk(dir).filter((f) => /\.ya?ml$/.test(f));
  } catch (err) {
    throw new ConfigError(
      dir,
      '',
      `cannot read the manifests directory: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  const out: Found[] = [];
  for (const file of files) {
    for (const doc of parseYamlDocuments(relative('.', file), readFileSync(file, 'utf8')).documents) {
      const object = doc.toJS() as ManifestObject | null;
      if (object && typeof object === 'object') out.push({ file, object });
    }
  }
  return out;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}
