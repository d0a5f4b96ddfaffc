import { Field, Float, ID, InputType } from 'type-graphql';
import { KnowledgeKind } from './enums.js';

@InputType()
export class RecordKnowledgeInput {
  @Field(() => String, { description: '1 to 20000 characters (trimmed).' })
  content!: string;

  @Field(() => KnowledgeKind, { nullable: true, defaultValue: KnowledgeKind.FACT })
  kind?: KnowledgeKind | null;

  @Field(() => Float, { nullable: true, description: '0 to 1; default 1.' })
  confidence?: number | null;

  @Field(() => [String], { nullable: true, description: 'Up to 20 distinct, 1 to 50 characters.' })
  tags?: string[] | null;

  @Field(() => ID, { nullable: true, description: 'The agent that contributed it.' })
  agentId?: string | null;

  @Field(() => ID, { nullable: true, description: 'The task it was learned from.' })
  taskId?: string | null;

  @Field(() => ID, { nullable: true, description: 'An older item this one replaces.' })
  supersedesId?: string | null;
}

@InputType({ description: 'Fields to change; omitted or null fields stay.' })
export class UpdateKnowledgeInput {
  @Field(() => String, { nullable: true })
  content?: string | null;

  @Field(() => KnowledgeKind, { nullable: true })
  kind?: KnowledgeKind | null;

  @Field(() => Float, { nullable: true })
  confidence?: number | null;

  @Field(() => [String], { nullable: true, description: 'Replaces the tags; [] clears them.' })
  tags?: string[] | null;
}

@InputType()
export class KnowledgeFilter {
  @Field(() => KnowledgeKind, { nullable: true })
  kind?: KnowledgeKind | null;

  @Field(() => String, { nullable: true, description: 'Has this tag (exact).' })
  tag?: string | null;

  @Field(() => ID, { nullable: true, description: 'Contributed by this agent.' })
  agentId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Learned from this task.' })
  taskId?: string | null;

  @Field(() => Float, { nullable: true, description: 'Confidence at least this, 0 to 1.' })
  minConfidence?: number | null;

  @Field(() => String, {
    nullable: true,
    description: 'In the content or tags (case-insensitive).',
  })
  text?: string | null;
}
