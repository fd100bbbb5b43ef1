/** Picks a driver by name; an unknown name is an error, never a silent default (STYLE.md). */
import { UsageError } from '../core/errors.ts';
import { BuiltinDriver } from './builtin.ts';
import type { Driver, DriverName } from './driver.ts';
import { K6Driver } from './k6.ts';
import type { K6DriverOptions } from './k6.ts';

export const DRIVER_NAMES: readonly DriverName[] = ['builtin', 'k6'];

export function createDriver(name: string, k6?: K6DriverOptions): Driver {
  switch (name) {
    case 'builtin':
      return new BuiltinDriver();
    case 'k6':
      return new K6Driver(k6);
    default:
      throw new UsageError('--driver', `expected one of ${DRIVER_NAMES.join(', ')}, got "${name}"`);
  }
}
