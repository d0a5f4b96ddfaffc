import { DateTimeISOResolver } from 'graphql-scalars';
import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { Connection } from './connection.type.js';
import { AuditOutcome, Role } from './enums.js';

@ObjectType({ description: 'An organisation: every node belongs to exactly one tenant.' })
export class Tenant {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => DateTimeISOResolver)
  createdAt!: string;
}

@ObjectType({ description: 'An API key; the key itself is shown only once, at creation.' })
export class ApiKey {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => Role)
  role!: Role;

  @Field(() => String, { description: 'The first characters of the key, to tell keys apart.' })
  prefix!: string;

  @Field(() => DateTimeISOResolver)
  createdAt!: string;

  @Field(() => DateTimeISOResolver, {
    nullable: true,
    description: 'Updated at most once a minute.',
  })
  lastUsedAt!: string | null;

  @Field(() => DateTimeISOResolver, { nullable: true })
  revokedAt!: string | null;
}

@ObjectType()
export class ApiKeyConnection extends Connection(ApiKey) {}

@ObjectType({
  description: 'A new key. Keep `secret`: it is not stored and cannot be shown again.',
})
export class CreatedApiKey {
  @Field(() => ApiKey)
  apiKey!: ApiKey;

  @Field(() => String, { description: 'Send as "Authorization: Bearer <secret>".' })
  secret!: string;
}

@ObjectType()
export class CreatedTenant {
  @Field(() => Tenant)
  tenant!: Tenant;

  @Field(() => ApiKey, { description: 'The new tenant’s first ADMIN key.' })
  apiKey!: ApiKey;

  @Field(() => String, { description: 'The ADMIN key itself, shown once.' })
  secret!: string;
}

@ObjectType({ description: 'The caller, as its API key identifies it.' })
export class Viewer {
  @Field(() => ID)
  keyId!: string;

  @Field(() => String)
  keyName!: string;

  @Field(() => Role)
  role!: Role;

  @Field(() => Tenant)
  tenant!: Tenant;
}

@ObjectType({ description: 'One audited attempt: who did what to which ids, and how it ended.' })
export class AuditEvent {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: 'The mutation, or Type.field for a refused access.' })
  operation!: string;

  @Field(() => String, { nullable: true, description: 'The name of the key used.' })
  actor!: string | null;

  @Field(() => ID, { nullable: true })
  actorKeyId!: string | null;

  @Field(() => [ID])
  targetIds!: string[];

  @Field(() => AuditOutcome)
  outcome!: AuditOutcome;

  @Field(() => String, {
    nullable: true,
    description: 'The error code of a refused or failed attempt.',
  })
  code!: string | null;

  @Field(() => Int, {
    description:
      'Attempts this event stands for: refused authentications are counted per address and minute, not stored one by one.',
  })
  count!: number;

  @Field(() => String, {
    nullable: true,
    description: 'The client address of a refused authentication.',
  })
  address!: string | null;

  @Field(() => DateTimeISOResolver)
  createdAt!: string;
}

@ObjectType()
export class AuditEventConnection extends Connection(AuditEvent) {}

@InputType()
export class AuditFilter {
  @Field(() => String, { nullable: true, description: 'e.g. createAgent' })
  operation?: string | null;

  @Field(() => [AuditOutcome], { nullable: true })
  outcome?: AuditOutcome[] | null;

  @Field(() => ID, { nullable: true })
  actorKeyId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Events that touched this id.' })
  targetId?: string | null;

  /** The scalar parses input into a Date. */
  @Field(() => DateTimeISOResolver, { nullable: true })
  since?: Date | null;

  @Field(() => DateTimeISOResolver, { nullable: true })
  until?: Date | null;
}
