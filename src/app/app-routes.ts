import type { Exchange } from './exchange.ts';

/** One app's routes, behind the knobs; each app (account, bff, friend) returns one and `service.ts` puts the knobs in front (internal to src/app). */
export interface AppRoutes {
  handle(exchange: Exchange): void | Promise<void>;
  close(): Promise<void>;
}
