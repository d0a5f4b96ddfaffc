import { BadInputError } from './errors.js';

/*
 * Collective decisions (issue 12): a step answered independently by several Master Operators,
 * then decided. The answers and the decision are nodes of the step's run:
 * (:Answer)-[:FOR]->(:Run), (:Answer)-[:BY]->(:Agent), (:Decision)-[:FOR]->(:Run),
 * (:Decision)-[:CHOSE]->(:Answer).
 */

export enum ConsensusStrategy {
  /** The answer most voters agree with (normalised text equality). */
  MAJORITY = 'MAJORITY',
  /** The `evaluation` judge picks the best answer. */
  JUDGE = 'JUDGE',
}

/** How a step is to be decided: by how many voters, and how. */
export interface ConsensusSpec {
  voters: number;
  strategy: ConsensusStrategy;
}

export const CONSENSUS_VOTERS = Object.freeze({ min: 2, max: 7 });

/**
 * Validates a step's `consensus` input; null when the step has none.
 * @throws BadInputError naming the field and what was received.
 */
export function consensusSpec(
  input: { voters?: number | null; strategy?: string | null } | null | undefined,
): ConsensusSpec | null {
  if (input == null) return null;
  const { voters, strategy } = input;
  if (
    typeof voters !== 'number' ||
    !Number.isInteger(voters) ||
    voters < CONSENSUS_VOTERS.min ||
    voters > CONSENSUS_VOTERS.max
  ) {
    throw new BadInputError(
      `consensus.voters must be a whole number between ${CONSENSUS_VOTERS.min} and ${CONSENSUS_VOTERS.max}, but got ${String(voters)}`,
      { field: 'consensus.voters' },
    );
  }
  if (!Object.values(ConsensusStrategy).includes(strategy as ConsensusStrategy)) {
    throw new BadInputError(
      `consensus.strategy must be one of ${Object.values(ConsensusStrategy).join(', ')}, but got ${String(strategy)}`,
      { field: 'consensus.strategy' },
    );
  }
  return { voters, strategy: strategy as ConsensusStrategy };
}

/** One voter's answer to a consensus step. */
export interface Answer {
  id: string;
  tenantId: string;
  runId: string;
  agentId: string;
  content: string;
  /** The voter's place in the vote (0 first): ties go to the earlier voter. */
  position: number;
  /** How many answers (itself included) say the same after normalisation. */
  votes: number;
  chosen: boolean;
  createdAt: string;
}

/** How a consensus step was decided. */
export interface Decision {
  id: string;
  tenantId: string;
  runId: string;
  strategy: ConsensusStrategy;
  /** Voters asked for; fewer answered when fewer were available (see `reason`). */
  voters: number;
  /** The chosen answer's votes. */
  votes: number;
  /** The top of the count was shared by more than one distinct answer. */
  tie: boolean;
  reason: string;
  answerId: string;
  createdAt: string;
}
