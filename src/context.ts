import type { Graph } from '../graph/graph.js';
import type { Logger } from './logger.js';

/** What every resolver receives; built fresh for each request or subscription operation. */
export interface AppContext {
  graph: Graph;
  logger: Logger;
}
