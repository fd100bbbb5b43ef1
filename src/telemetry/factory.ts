import { UsageError } from '../core/errors.ts';
import { PrometheusSource, type PrometheusSourceOptions } from './prometheus.ts';
import { ScrapeSource, type ScrapeSourceOptions } from './scrape.ts';
import { SOURCE_KINDS, type Source } from './source.ts';

export type { PrometheusSourceOptions, ScrapeSourceOptions };

/** Picks the implementation by kind; an unknown kind is a `UsageError`, never a silent default. */
export function createSource(kind: 'scrape', opts: ScrapeSourceOptions): Source;
export function createSource(kind: 'prometheus', opts: PrometheusSourceOptions): Source;
export function createSource(kind: string, opts: ScrapeSourceOptions | PrometheusSourceOptions): Source;
export function createSource(kind: string, opts: ScrapeSourceOptions | PrometheusSourceOptions): Source {
  switch (kind) {
    case 'scrape':
      return new ScrapeSource(opts as ScrapeSourceOptions);
    case 'prometheus':
      return new PrometheusSource(opts as PrometheusSourceOptions);
    default:
      throw new UsageError(
        'source',
        `unknown telemetry source kind ${JSON.stringify(kind)}; expected one of ${SOURCE_KINDS.join(', ')}`,
      );
  }
}
