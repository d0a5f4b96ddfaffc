import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { MemoryHitKind } from '../../src/domain/memory-search.js';
import { Entity, Fact } from './memory.type.js';

export { MemoryHitKind };

registerEnumType(MemoryHitKind, {
  name: 'MemoryHitKind',
  description: 'What a memory search found: an entity, a fact, an episode or a knowledge item.',
});

@ObjectType({
  description:
    'How each retriever saw a hit: its rank and score in BM25 and in vector similarity, and its distance from the focus node. Null where that retriever did not find it.',
})
export class MemoryHitParts {
  @Field(() => Int, { nullable: true, description: 'Rank in full-text (BM25) search, 1 first.' })
  bm25Rank!: number | null;

  @Field(() => Float, { nullable: true, description: 'The BM25 score.' })
  bm25Score!: number | null;

  @Field(() => Int, { nullable: true, description: 'Rank by vector similarity, 1 first.' })
  vectorRank!: number | null;

  @Field(() => Float, {
    nullable: true,
    description: "Neo4j's cosine score, (1 + cosine) / 2, from 0 to 1.",
  })
  vectorScore!: number | null;

  @Field(() => Int, {
    nullable: true,
    description: 'Hops from the focus node (0: the focus entity itself), at most 3.',
  })
  graphDistance!: number | null;

  @Field(() => Int, { nullable: true, description: 'Rank by graph distance, 1 first.' })
  graphRank!: number | null;

  @Field(() => Boolean, {
    description:
      'An episode all of whose facts have ended (at asOf, or now): it keeps half its fused score, so what still holds comes first.',
  })
  superseded!: boolean;
}

@ObjectType({ description: 'Where a hit came from (only episodes the caller may see).' })
export class MemoryProvenance {
  @Field(() => [ID], { description: 'Its source episodes (an episode: itself).' })
  episodeIds!: string[];

  @Field(() => [String], { description: "Those episodes' readable sources." })
  sources!: string[];

  @Field(() => [ID], { description: 'The runs those episodes (or a knowledge item) came from.' })
  runIds!: string[];
}

@ObjectType({ description: 'One result of searchMemory.' })
export class MemoryHit {
  @Field(() => MemoryHitKind)
  kind!: MemoryHitKind;

  @Field(() => ID)
  id!: string;

  @Field(() => String, {
    description:
      "What a prompt shows of it: an entity's name, type and summary, a fact's sentence, an episode's or a knowledge item's content.",
  })
  text!: string;

  @Field(() => Float, {
    description: 'The fused score: the sum of 1 / (60 + rank) over the retrievers that found it.',
  })
  score!: number;

  @Field(() => MemoryHitParts)
  parts!: MemoryHitParts;

  @Field(() => MemoryProvenance)
  provenance!: MemoryProvenance;

  @Field(() => Entity, { nullable: true, description: 'The entity, when the hit is one.' })
  entity!: Entity | null;

  @Field(() => Fact, { nullable: true, description: 'The fact, when the hit is one.' })
  fact!: Fact | null;
}
