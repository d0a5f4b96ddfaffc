import type { ServerCallContext } from '@a2a-js/sdk/server';
import type { InTurn } from '../limits/turn.js';
import type { Operation } from '../mcp/operations.js';
import type { WorkflowEvents } from '../mcp/workflow-events.js';

/** Who sent an A2A request: its tenant, and GraphQL operations run with its API key. */
export interface A2ACaller {
  tenantId: string;
  run: Operation;
  /** Its own work besides operations (the task store) in one of its tenant's turns. */
  inTurn: InTurn;
  /** The events of a workflow of its tenant, for following it. */
  events: (rootId: string) => WorkflowEvents;
  /** This server's base URL as the caller reached it (for the cards). */
  baseUrl: string;
}

const CALLER = 'agent-platform.caller';

export function withCaller(context: ServerCallContext, caller: A2ACaller): ServerCallContext {
  context.state.set(CALLER, caller);
  return context;
}

export function callerOf(context: ServerCallContext | undefined): A2ACaller {
  const caller = context?.state.get(CALLER) as A2ACaller | undefined;
  if (!caller) throw new Error('an A2A call reached the platform without its caller');
  return caller;
}
