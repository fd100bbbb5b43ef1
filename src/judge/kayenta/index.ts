export { kayentaClassify } from './classifier.ts';
export type { KayentaClassification, KayentaClassifierOptions, KayentaMetricResult } from './classifier.ts';
export { kayentaScore } from './scorer.ts';
export type {
  KayentaGroupScore,
  KayentaScoreOptions,
  KayentaScoreResult,
  KayentaScoredMetric,
  KayentaSummaryClassification,
} from './scorer.ts';
export { kayentaMannWhitneyInterval } from './mann-whitney-interval.ts';
export type { KayentaInterval } from './mann-whitney-interval.ts';
