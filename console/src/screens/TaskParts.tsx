import { useCallback, useEffect, useRef, useState } from 'react';
import { graphql } from '../gql';
import type { TaskDetailMessagesQuery, TaskDetailWorkflowQuery } from '../gql/graphql';
import { useSubscription } from '../hooks';
import { useSession } from '../session';
import { ErrorNote } from '../components/ErrorNote';

export type Step = TaskDetailWorkflowQuery['workflow']['tasks'][number];

/** The statuses a task ends in. */
export const FINISHED = new Set<string>(['COMPLETED', 'FAILED', 'CANCELLED', 'SKIPPED']);

export function StatusBadge({ status, label }: { status: string; label?: string }) {
  return (
    // Labelled, it is a live region: the task's status is announced as it changes.
    <span className={'status ' + status} aria-label={label} role={label ? 'status' : undefined}>
      {status}
    </span>
  );
}

/** DateTimeISO arrives as ISO text (typed unknown: the scalar has no mapping in codegen). */
export function formatTime(iso: unknown): string {
  return iso ? new Date(String(iso)).toLocaleString() : '';
}

/**
 * Coalesces bursts of events into one call `ms` after the first of them: unlike a trailing
 * debounce it cannot starve while events keep coming, and it never calls more often than that.
 */
export function useCoalesced(fn: () => void, ms: number): () => void {
  const latest = useRef(fn);
  latest.current = fn;
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  return useCallback(() => {
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      latest.current();
    }, ms);
  }, [ms]);
}

const MessagesQuery = graphql(`
  query TaskDetailMessages(
    $rootId: ID!
    $stepId: ID
    $hasStep: Boolean!
    $conversationId: ID
    $hasConversation: Boolean!
  ) {
    about: messages(first: 100, orderBy: CREATED_DESC, filter: { aboutTaskId: $rootId }) {
      nodes {
        ...TaskDetailMessage
      }
    }
    step: messages(first: 1, filter: { aboutTaskId: $stepId }) @include(if: $hasStep) {
      nodes {
        conversation {
          id
        }
      }
    }
    plan: messages(first: 100, orderBy: CREATED_DESC, filter: { conversationId: $conversationId })
      @include(if: $hasConversation) {
      nodes {
        ...TaskDetailMessage
      }
    }
  }
  fragment TaskDetailMessage on Message {
    id
    kind
    content
    senderUser
    broadcast
    createdAt
    from {
      id
      name
    }
    to {
      id
      name
    }
    about {
      id
      title
    }
    conversation {
      id
    }
  }
`);

const MessageSentSubscription = graphql(`
  subscription TaskDetailMessageSent($conversationId: ID!) {
    messageSent(conversationId: $conversationId) {
      ...TaskDetailMessage
    }
  }
`);

type Message = TaskDetailMessagesQuery['about']['nodes'][number];

function merge(list: Message[], more: Message[]): Message[] {
  const byId = new Map(list.map((m) => [m.id, m]));
  for (const m of more) byId.set(m.id, m);
  return [...byId.values()]
    .sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt)))
    .slice(-200);
}

/**
 * What agents said about the task: messages about the root, and the plan's conversation (the
 * Chief of Staff's delegations and the operators' reports are about the steps, all in one
 * conversation, found through a step's message). Live through messageSent on that conversation.
 */
export function TaskMessages({ rootId, stepId }: { rootId: string; stepId?: string }) {
  const { api } = useSession();
  const [messages, setMessages] = useState<Message[]>([]);
  const [conversationId, setConversationId] = useState<string>();
  const [error, setError] = useState<unknown>();
  const conversation = useRef<string | undefined>(undefined);
  const loaded = useRef(false);

  useEffect(() => {
    // Once the conversation is known, a new first step (a re-plan) changes nothing.
    if (loaded.current && conversation.current) return;
    let live = true;
    const load = async () => {
      const ask = (conv: string | undefined) =>
        api.request(MessagesQuery, {
          rootId,
          stepId: stepId ?? null,
          hasStep: !!stepId && !conv,
          conversationId: conv ?? null,
          hasConversation: !!conv,
        });
      let res = await ask(conversation.current);
      const found = res.step?.nodes[0]?.conversation.id;
      if (!conversation.current && found) {
        conversation.current = found;
        res = await ask(found);
      }
      if (!live) return;
      loaded.current = true;
      setConversationId(conversation.current);
      setMessages((old) => merge(old, [...res.about.nodes, ...(res.plan?.nodes ?? [])]));
      setError(undefined);
    };
    load().catch((err: unknown) => live && setError(err));
    return () => {
      live = false;
    };
  }, [api, rootId, stepId]);

  const liveError = useSubscription(
    MessageSentSubscription,
    { conversationId: conversationId ?? '' },
    ({ messageSent }) => setMessages((old) => merge(old, [messageSent])),
    !!conversationId,
  );

  return (
    <section aria-label="Messages" className="panel">
      <h2>Messages</h2>
      {error !== undefined && <ErrorNote error={error} />}
      {liveError !== undefined && <ErrorNote error={liveError} />}
      {messages.length === 0 ? (
        <p className="muted">No messages about this task yet.</p>
      ) : (
        <ol className="chat-log">
          {messages.map((m) => (
            <li key={m.id}>
              <div className="muted">
                {m.from?.name ?? m.senderUser ?? 'someone'} →{' '}
                {m.broadcast ? 'everyone' : m.to.map((t) => t.name).join(', ') || 'nobody'} ·{' '}
                {m.kind}
                {m.about && m.about.id !== rootId ? ` · about “${m.about.title}”` : ''} ·{' '}
                {formatTime(m.createdAt)}
              </div>
              <p>{m.content}</p>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
