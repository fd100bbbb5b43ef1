/**
 * The data plane's scrape targets as a Prometheus file-based service discovery file
 * (https://prometheus.io/docs/prometheus/latest/configuration/configuration/#file_sd_config): one
 * group per process, its /metrics as `127.0.0.1:PORT`, labelled as the project's scrape
 * configuration for a cluster labels a pod (manifests/prometheus/scrape-config.yaml: `namespace`,
 * `pod`, and the pod's `app`, `version` and `track` labels), so queries written for a cluster
 * select the same series here. Prometheus re-reads the file when it changes; it is replaced by a
 * rename, so Prometheus never reads half of it.
 */
import { rename, writeFile } from 'node:fs/promises';
import { InfraError } from '../../core/errors.ts';

/** One process to scrape. */
export interface ScrapeTarget {
  /** `http://127.0.0.1:PORT/metrics`: only loopback, only /metrics (the scrape configuration's path). */
  metricsUrl: string;
  namespace: string;
  pod: string;
  /** The pod's labels; `app`, `version` and `track` become target labels, as on a cluster. */
  podLabels: Readonly<Record<string, string>>;
}

/** A group of Prometheus's file SD format. */
export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/** The pod labels the cluster's scrape configuration copies (its `labelmap` regex). */
const COPIED_POD_LABELS = ['app', 'version', 'track'] as const;

const LOOPBACK_METRICS = /^http:\/\/127\.0\.0\.1:(\d{1,5})\/metrics$/;

export function targetGroups(targets: readonly ScrapeTarget[]): TargetGroup[] {
  return targets.map((t) => {
    const m = LOOPBACK_METRICS.exec(t.metricsUrl);
    if (!m)
      throw new InfraError(
        `scrape target of pod ${t.pod}: expected http://127.0.0.1:PORT/metrics, got ${JSON.stringify(t.metricsUrl)}`,
      );
    const labels: Record<string, string> = {};
    for (const name of COPIED_POD_LABELS) {
      const value = t.podLabels[name];
      if (value !== undefined) labels[name] = value;
    }
    return { targets: [`127.0.0.1:${m[1]}`], labels: { ...labels, namespace: t.namespace, pod: t.pod } };
  });
}

let written = 0;

/** Replaces `file` with the groups: written beside it under another name, then renamed over it. */
export async function writeTargetsFile(file: string, groups: readonly TargetGroup[]): Promise<void> {
  const temp = `${file}.${process.pid}.${++written}.tmp`;
  await writeFile(temp, `${JSON.stringify(groups, null, 2)}\n`);
  await rename(temp, file);
}
