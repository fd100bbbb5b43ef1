/**
 * Newcombe's hybrid score interval for a difference of two independent proportions p1 - p2.
 *
 * Definition: with Wilson intervals [l1, u1] for p1 = x1/n1 and [l2, u2] for p2 = x2/n2,
 *   lower = (p1 - p2) - sqrt((p1 - l1)^2 + (u2 - p2)^2),
 *   upper = (p1 - p2) + sqrt((u1 - p1)^2 + (p2 - l2)^2).
 * Reference: Newcombe, "Interval estimation for the difference between independent proportions:
 *   comparison of eleven methods", Stat. Med. 17 (1998) 873-890, method 10; STATS.md F7.
 * Complexity: O(1).
 * Throws: RangeError as `wilsonInterval` for either proportion (naming which one).
 * Example: newcombeDifference(56, 70, 48, 80) ->
 *   { estimate: 0.20000000000000007, lower: 0.05243147240236515, upper: 0.33387265403690575, confidence: 0.95 }
 */
import { wilsonInterval } from './wilson.ts';

export interface DifferenceInterval {
  /** p1 - p2. */
  estimate: number;
  lower: number;
  upper: number;
  confidence: number;
}

export function newcombeDifference(
  successes1: number,
  trials1: number,
  successes2: number,
  trials2: number,
  confidence = 0.95,
): DifferenceInterval {
  const first = named('first proportion', () => wilsonInterval(successes1, trials1, confidence));
  const second = named('second proportion', () => wilsonInterval(successes2, trials2, confidence));
  const p1 = first.estimate;
  const p2 = second.estimate;
  const estimate = p1 - p2;
  const lower = estimate - Math.sqrt((p1 - first.lower) ** 2 + (second.upper - p2) ** 2);
  const upper = estimate + Math.sqrt((first.upper - p1) ** 2 + (p2 - second.lower) ** 2);
  return { estimate, lower: Math.max(-1, lower), upper: Math.min(1, upper), confidence };
}

function named<T>(what: string, compute: () => T): T {
  try {
    return compute();
  } catch (error) {
    if (error instanceof RangeError) throw new RangeError(`${what}: ${error.message}`);
    throw error;
  }
}
