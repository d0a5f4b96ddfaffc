import type { Graph } from '../graph/graph.js';
import type { Loaders } from './loaders.js';
import type { Logger } from './logger.js';
import type { Services } from './services/index.js';

/** What every resolver receives; built fresh for each request or subscription operation. */
export interface AppContext {
  graph: Graph;
  logger: Logger;
  services: Services;
  /** Every read and write is scoped to this tenant. */
  tenantId: string;
  /** Who is acting, for provenance (createdBy, senderUser). */
  actor: string;
  loaders: Loaders;
}
