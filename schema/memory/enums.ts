import { registerEnumType } from 'type-graphql';
import { EpisodeKind, EpisodeStatus, MemoryScope } from '../../src/domain/memory.js';

export { EpisodeKind, EpisodeStatus, MemoryScope };

registerEnumType(EpisodeKind, {
  name: 'EpisodeKind',
  description:
    'What an episode of raw experience was: a step result, a message, a chat turn, a document chunk or a note.',
});
registerEnumType(EpisodeStatus, {
  name: 'EpisodeStatus',
  description: 'PENDING until the background ingestion takes it; INGESTED or FAILED after.',
});
registerEnumType(MemoryScope, {
  name: 'MemoryScope',
  description: 'Who may recall a memory: one AGENT, the agents of one TASK, or the whole TENANT.',
});

export enum EntityOrder {
  CREATED_ASC = 'CREATED_ASC',
  CREATED_DESC = 'CREATED_DESC',
  UPDATED_DESC = 'UPDATED_DESC',
  NAME_ASC = 'NAME_ASC',
}
registerEnumType(EntityOrder, { name: 'EntityOrder' });
