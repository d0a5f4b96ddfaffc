import { Field, InputType } from 'type-graphql';
import { DocumentStatus } from './document.type.js';

@InputType()
export class DocumentFilter {
  @Field(() => DocumentStatus, { nullable: true })
  status?: DocumentStatus | null;
}
