import { randomUUID } from 'node:crypto';
import * as repo from '../../graph/message.repository.js';
import type { Tx } from '../../graph/cypher.js';
import { TOPICS } from '../../subscriptions/topics.js';
import { BadInputError, NotFoundError } from '../domain/errors.js';
import {
  checkRecipients,
  MessageKind,
  type Conversation,
  type Message,
} from '../domain/message.js';
import { pageRequest, type PageInput, type Page, type Sort } from '../domain/page.js';
import {
  atPosition,
  LIMITS,
  listOfAtMost,
  optionalName,
  optionalText,
  requiredText,
} from '../domain/validate.js';
import type { UnitOfWork } from './unit-of-work.js';
import { queueMessages } from '../memory/ingest/sources.js';
import { refuseOverPendingEpisodes } from './backlog.js';
import type { BacklogLimits } from '../domain/backlog.js';

export interface SendMessageData {
  content: string;
  kind?: MessageKind | null;
  /** The sending agent; without it the acting user is the sender. */
  fromAgentId?: string | null;
  toAgentIds?: readonly string[] | null;
  broadcast?: boolean | null;
  aboutTaskId?: string | null;
  /** Without it a new conversation is started. */
  conversationId?: string | null;
  /** Title of the new conversation; only when no conversationId is given. */
  conversationTitle?: string | null;
}

/** Messaging between users and agents; every method that writes is one transaction. */
export class MessageService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly backlog?: BacklogLimits,
  ) {}

  /**
   * Sends up to 100 messages in one transaction, all or nothing, in the order given. Each is
   * numbered in its conversation (`seq`) and announced on messageSent after the commit.
   * Throws BAD_USER_INPUT for invalid input, NOT_FOUND naming an unknown id, and LIMIT_EXCEEDED
   * when their episodes would take the tenant past TENANT_MAX_PENDING_EPISODES.
   */
  async sendMany(tenantId: string, actor: string, inputs: SendMessageData[]): Promise<Message[]> {
    listOfAtMost('inputs', inputs, LIMITS.batch);
    if (inputs.length === 0) return [];
    const drafts = inputs.map((input, i) =>
      atPosition(inputs.length > 1 ? `inputs[${i}].` : '', () => draft(actor, input)),
    );

    return this.uow.run(async (tx, emit) => {
      const operation = drafts.length > 1 ? 'These messages' : 'This message';
      await refuseOverPendingEpisodes(tx, tenantId, this.backlog, operation, drafts.length);
      await assertAllExist(tx, tenantId, drafts);
      await repo.createConversations(
        tx,
        tenantId,
        drafts.filter((d) => d.newConversation).map((d) => d.newConversation!),
      );
      const sent = await repo.insertMessages(
        tx,
        tenantId,
        drafts.map((d) => d.message),
      );
      // Each message is an episode of memory, ingested later (issue 11).
      await queueMessages(
        tx,
        tenantId,
        drafts.map((d) => d.message),
      );
      sent.forEach((message, i) => {
        const { fromAgentId, toAgentIds } = drafts[i]!.message;
        emit({
          topic: TOPICS.messageSent,
          payload: { tenantId, message, senderAgentId: fromAgentId, recipientIds: toAgentIds },
        });
      });
      return sent;
    });
  }

  createConversation(tenantId: string, title?: string | null): Promise<Conversation> {
    const conversation = {
      id: randomUUID(),
      title: optionalName('title', title, LIMITS.title) ?? null,
    };
    return this.uow.run(async (tx) => {
      const [created] = await repo.createConversations(tx, tenantId, [conversation]);
      return created!;
    });
  }

  list(
    tenantId: string,
    filter: repo.MessageFilter,
    sort: Sort,
    input: PageInput,
  ): Promise<Page<Message>> {
    const page = pageRequest(input);
    const text = optionalText('text', filter.text, LIMITS.search) ?? undefined;
    return this.uow.read((tx) => repo.listMessages(tx, tenantId, { ...filter, text }, sort, page));
  }

  listConversations(tenantId: string, sort: Sort, input: PageInput): Promise<Page<Conversation>> {
    const page = pageRequest(input);
    return this.uow.read((tx) => repo.listConversations(tx, tenantId, sort, page));
  }
}

interface Draft {
  message: repo.NewMessage;
  newConversation: { id: string; title: string | null } | null;
}

/** Validates one input without touching the graph. */
function draft(actor: string, input: SendMessageData): Draft {
  const content = requiredText('content', input.content, LIMITS.content);
  const toAgentIds = checkRecipients(input.toAgentIds ?? [], input.broadcast ?? false);
  const title = optionalName('conversationTitle', input.conversationTitle, LIMITS.title) ?? null;
  // `!= null`, not truthiness: an empty id is an id of nothing (NOT_FOUND), not "none". With
  // truthiness, conversationId "" started a new conversation yet wrote the message to "",
  // committing an empty conversation and answering 500.
  const conversationId = input.conversationId ?? null;
  if (conversationId !== null && title !== null) {
    throw new BadInputError(
      'conversationTitle names a new conversation: leave it out when giving conversationId',
      { field: 'conversationTitle' },
    );
  }
  const newConversation = conversationId !== null ? null : { id: randomUUID(), title };
  return {
    newConversation,
    message: {
      id: randomUUID(),
      kind: input.kind ?? MessageKind.CHAT,
      content,
      senderUser: input.fromAgentId != null ? null : actor,
      fromAgentId: input.fromAgentId ?? null,
      toAgentIds,
      broadcast: input.broadcast ?? false,
      aboutTaskId: input.aboutTaskId ?? null,
      conversationId: conversationId ?? newConversation!.id,
    },
  };
}

/** NOT_FOUND for the first id, in input order, that names nothing in the tenant. */
async function assertAllExist(tx: Tx, tenantId: string, drafts: Draft[]): Promise<void> {
  const prefix = (i: number) => (drafts.length > 1 ? `inputs[${i}].` : '');
  const given = drafts.map((d) => d.message);
  const checks = [
    {
      label: 'Conversation' as const,
      field: 'conversationId',
      ids: (m: repo.NewMessage, d: Draft) => (d.newConversation ? [] : [m.conversationId]),
    },
    {
      label: 'Agent' as const,
      field: 'fromAgentId',
      ids: (m: repo.NewMessage) => opt(m.fromAgentId),
    },
    { label: 'Agent' as const, field: 'toAgentIds', ids: (m: repo.NewMessage) => m.toAgentIds },
    {
      label: 'Task' as const,
      field: 'aboutTaskId',
      ids: (m: repo.NewMessage) => opt(m.aboutTaskId),
    },
  ];
  for (const check of checks) {
    const perInput = given.map((m, i) => check.ids(m, drafts[i]!));
    const unknown = new Set(await repo.unknownIds(tx, tenantId, check.label, perInput.flat()));
    const i = perInput.findIndex((ids) => ids.some((id) => unknown.has(id)));
    if (i >= 0) {
      const id = perInput[i]!.find((x) => unknown.has(x))!;
      throw new NotFoundError(`${prefix(i)}${check.field}: ${check.label}`, id);
    }
  }
}

const opt = (id: string | null): string[] => (id !== null ? [id] : []);
