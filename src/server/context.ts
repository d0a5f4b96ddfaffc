import type { Graph } from '../../graph/graph.js';
import type { Principal } from '../domain/auth.js';
import type { Loaders } from '../loaders/loaders.js';
import type { Logger } from '../logger.js';
import type { Services } from '../services/index.js';

/** What every resolver receives; built fresh for each request or subscription event. */
export interface AppContext {
  graph: Graph;
  logger: Logger;
  services: Services;
  /** The caller, from its API key; null only for public fields (health). */
  principal: Principal | null;
  /** The caller's tenant: every read and write is scoped to it. */
  tenantId: string;
  /** Who is acting, for provenance (createdBy, senderUser): the key's name. */
  actor: string;
  loaders: Loaders;
}
