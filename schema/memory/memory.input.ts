import { DateTimeISOResolver } from 'graphql-scalars';
import { Field, ID, InputType } from 'type-graphql';
import { EpisodeKind, EpisodeStatus } from './enums.js';

@InputType()
export class EntityFilter {
  @Field(() => String, { nullable: true, description: 'Organisation, Person, ... (exact).' })
  type?: string | null;

  @Field(() => String, { nullable: true, description: 'Part of the name or an alias.' })
  text?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Also entities merged into others.' })
  includeMerged?: boolean | null;
}

@InputType()
export class FactFilter {
  @Field(() => ID, { nullable: true, description: 'Facts whose subject is this entity.' })
  subjectId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Facts with this entity at either end.' })
  entityId?: string | null;

  @Field(() => String, { nullable: true })
  predicate?: string | null;

  @Field(() => String, { nullable: true, description: 'Part of the fact sentence.' })
  text?: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'Every fact, current and ended (asOf is then ignored).',
  })
  includeEnded?: boolean | null;
}

@InputType()
export class EpisodeFilter {
  @Field(() => EpisodeStatus, { nullable: true })
  status?: EpisodeStatus | null;

  @Field(() => EpisodeKind, { nullable: true })
  kind?: EpisodeKind | null;

  @Field(() => ID, { nullable: true, description: 'Chunks of this document.' })
  documentId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Episodes that mention this entity.' })
  entityId?: string | null;
}

export { DateTimeISOResolver };
