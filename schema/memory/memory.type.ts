import { DateTimeISOResolver } from 'graphql-scalars';
import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { Connection } from '../connection.type.js';
import { Node } from '../node.type.js';
import { EpisodeKind, EpisodeStatus, MemoryScope } from './enums.js';

@ObjectType({
  implements: Node,
  description:
    'A unit of raw experience (a step result, a message, a chat turn, a document chunk) that memory learns entities and facts from.',
})
export class Episode extends Node {
  @Field(() => EpisodeKind)
  kind!: EpisodeKind;

  @Field(() => String, {
    description: 'Where it came from, readable: `document "Q3" part 2 of 5`.',
  })
  source!: string;

  @Field(() => String)
  content!: string;

  @Field(() => DateTimeISOResolver, { description: 'When it happened in the world.' })
  occurredAt!: string;

  @Field(() => EpisodeStatus)
  status!: EpisodeStatus;

  @Field(() => Int, { description: 'Ingestion attempts so far.' })
  attempts!: number;

  @Field(() => Int, { description: 'Model calls its ingestion made (0 for structured facts).' })
  modelCalls!: number;

  @Field(() => String, { nullable: true, description: 'Why ingestion failed, when it did.' })
  error!: string | null;

  @Field(() => DateTimeISOResolver, { nullable: true })
  ingestedAt!: string | null;

  @Field(() => MemoryScope)
  scope!: MemoryScope;

  @Field(() => ID, { nullable: true, description: 'The agent or task it is private to.' })
  scopeId!: string | null;

  @Field(() => DateTimeISOResolver)
  createdAt!: string;
}

@ObjectType()
export class EpisodeConnection extends Connection(Episode) {}

@ObjectType({
  implements: Node,
  description:
    'Someone or something memory knows about, resolved across the episodes that mention it.',
})
export class Entity extends Node {
  @Field(() => String)
  name!: string;

  @Field(() => String, {
    description: 'An open set: Organisation, Person, Product, Place, Metric, ...',
  })
  type!: string;

  @Field(() => String)
  summary!: string;

  @Field(() => [String], { description: 'Other names it was found under (merges, lookalikes).' })
  aliases!: string[];

  @Field(() => ID, {
    nullable: true,
    description: 'The entity it was merged into; null while it stands on its own.',
  })
  mergedInto!: string | null;

  @Field(() => DateTimeISOResolver)
  createdAt!: string;

  @Field(() => DateTimeISOResolver)
  updatedAt!: string;
}

@ObjectType()
export class EntityConnection extends Connection(Entity) {}

@ObjectType({ description: 'An entity one current fact away, with how many facts join them.' })
export class EntityNeighbour {
  @Field(() => Entity)
  entity!: Entity;

  @Field(() => Int)
  facts!: number;
}

@ObjectType({
  implements: Node,
  description:
    'A statement about an entity, in time: validFrom/validUntil in the world, recordedAt/expiredAt in the platform. A contradiction ends a fact; nothing deletes one.',
})
export class Fact extends Node {
  subjectId!: string;
  objectId!: string | null;
  replacedById!: string | null;

  @Field(() => String, { description: 'lower_snake: revenue, ceo, located_in.' })
  predicate!: string;

  @Field(() => String, { description: 'The object: an entity name or a literal value.' })
  value!: string;

  @Field(() => String, { description: 'The fact as one sentence.' })
  text!: string;

  @Field(() => Float)
  confidence!: number;

  @Field(() => DateTimeISOResolver, { nullable: true })
  validFrom!: string | null;

  @Field(() => DateTimeISOResolver, { nullable: true })
  validUntil!: string | null;

  @Field(() => DateTimeISOResolver)
  recordedAt!: string;

  @Field(() => DateTimeISOResolver, { nullable: true })
  expiredAt!: string | null;

  @Field(() => DateTimeISOResolver)
  createdAt!: string;
}

@ObjectType()
export class FactConnection extends Connection(Fact) {}

@ObjectType({
  description:
    'A retention rule: ingested episodes of `kind` are forgotten `days` after they happened (hourly).',
})
export class EpisodeRetention {
  @Field(() => EpisodeKind)
  kind!: EpisodeKind;

  @Field(() => Int)
  days!: number;

  @Field(() => DateTimeISOResolver)
  updatedAt!: string;
}
