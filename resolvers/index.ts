import type { NonEmptyArray } from 'type-graphql';
import { AgentResolver } from './agent.resolver.js';
import { HealthResolver } from './health.resolver.js';

/** Every resolver class in the schema. */
export const RESOLVERS: NonEmptyArray<Function> = [HealthResolver, AgentResolver];
