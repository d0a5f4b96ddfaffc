import { Field, ObjectType } from 'type-graphql';

@ObjectType({ description: 'Whether the graph database answers.' })
export class Neo4jHealth {
  @Field(() => Boolean, { description: 'True when Neo4j answered this request.' })
  up!: boolean;

  @Field(() => String, {
    nullable: true,
    description: 'The Neo4j server agent, e.g. Neo4j/5.26.30.',
  })
  version!: string | null;

  @Field(() => String, { description: 'The database the API uses.' })
  database!: string;
}

@ObjectType({ description: 'The API and its dependencies.' })
export class Health {
  @Field(() => String, { description: 'The platform version.' })
  version!: string;

  @Field(() => Neo4jHealth)
  neo4j!: Neo4jHealth;
}
