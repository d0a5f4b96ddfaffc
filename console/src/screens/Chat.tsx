import { useCallback, useEffect, useRef, useState } from 'react';
import { graphql } from '../gql';
import type { ChatLineFragment } from '../gql/graphql';
import { useMutation, useQuery, useSubscription } from '../hooks';
import { usePagedQuery } from '../paged';
import { useSession } from '../session';
import { ErrorNote } from '../components/ErrorNote';
import { ShowMore } from '../components/ShowMore';

// By name, a page at a time: "Show more agents" beside the list adds the next.
const AgentsQuery = graphql(`
  query ChatAgents($after: String) {
    agents(first: 100, after: $after, orderBy: NAME_ASC) {
      nodes {
        id
        name
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

// The chosen agent by id: a link may name one outside the pages read, or none at all.
const AgentQuery = graphql(`
  query ChatAgent($id: ID!) {
    agent(id: $id) {
      id
      name
    }
  }
`);

graphql(`
  fragment ChatLine on Message {
    id
    kind
    content
    senderUser
    createdAt
    from {
      id
      name
    }
    conversation {
      id
    }
  }
`);

// The newest 100 chat messages the agent sent or received, for the log.
const HistoryQuery = graphql(`
  query ChatHistory($agentId: ID!) {
    messages(first: 100, orderBy: CREATED_DESC, filter: { agentId: $agentId, kind: CHAT }) {
      nodes {
        ...ChatLine
      }
    }
  }
`);

const TokensSubscription = graphql(`
  subscription ChatTokens($agentId: ID!) {
    chatTokens(agentId: $agentId) {
      conversationId
      replyId
      token
      index
      done
      error
    }
  }
`);

// By agent: what people send it (live for viewers too); by conversation: the stored replies.
const MessagesSubscription = graphql(`
  subscription ChatMessageSent($agentId: ID, $conversationId: ID) {
    messageSent(agentId: $agentId, conversationId: $conversationId) {
      ...ChatLine
    }
  }
`);

const ChatMutation = graphql(`
  mutation ChatSend($agentId: ID!, $message: String!, $conversationId: ID) {
    chat(agentId: $agentId, message: $message, conversationId: $conversationId) {
      conversationId
      replyId
      message {
        ...ChatLine
      }
    }
  }
`);

/** A message in the log; a reply still streaming is not `stored` yet. */
interface Line {
  id: string;
  conversationId: string;
  mine: boolean;
  sender: string;
  content: string;
  stored: boolean;
}

interface Stream {
  parts: string[];
  done: boolean;
  error: string | null;
}

function lineOf(m: ChatLineFragment): Line {
  return {
    id: m.id,
    conversationId: m.conversation.id,
    mine: m.senderUser != null,
    sender: m.from?.name ?? m.senderUser ?? 'someone',
    content: m.content,
    stored: true,
  };
}

/** History first, then live lines; a stored version of a line wins over a streaming one. */
function merge(history: Line[], live: Line[]): Line[] {
  const byId = new Map<string, Line>();
  for (const line of [...history, ...live]) {
    const seen = byId.get(line.id);
    if (!seen || (!seen.stored && line.stored)) byId.set(line.id, line);
  }
  return [...byId.values()];
}

export function Chat({ agentId }: { agentId?: string }) {
  const agents = usePagedQuery(AgentsQuery, {}, (d) => d.agents);
  const list = agents.rows;
  const agent = list.find((a) => a.id === agentId);
  return (
    <>
      <h1>Chat</h1>
      <div className="panel">
        <label htmlFor="chat-agent">Agent</label>
        <select
          id="chat-agent"
          value={agentId ?? ''}
          onChange={(e) => {
            if (e.target.value) location.hash = `#/chat/${e.target.value}`;
          }}
        >
          <option value="" disabled>
            Choose an agent…
          </option>
          {list.map((a) => (
            <option key={a.id} value={a.id}>
              {a.name}
            </option>
          ))}
          {agentId && agents.loaded && !agent && <option value={agentId}>{agentId}</option>}
        </select>
        <ShowMore list={agents} what="agents" />
        {agents.error !== undefined && <ErrorNote error={agents.error} />}
        {agents.moreError !== undefined && <ErrorNote error={agents.moreError} />}
        {!agentId && <p className="muted">Choose an agent to talk to.</p>}
      </div>
      {/* Keyed: another agent starts with a fresh log, stream and conversation. */}
      {agentId && <ChosenAgent key={agentId} agentId={agentId} />}
    </>
  );
}

/** The conversation once the agent is known to exist; otherwise why not, and no message box. */
function ChosenAgent({ agentId }: { agentId: string }) {
  const chosen = useQuery(AgentQuery, { id: agentId });
  if (chosen.error !== undefined) {
    return (
      <div className="panel">
        <ErrorNote error={chosen.error} />
      </div>
    );
  }
  if (!chosen.data) return <p className="muted">Loading…</p>;
  return <AgentChat agentId={agentId} agentName={chosen.data.agent.name} />;
}

function AgentChat({ agentId, agentName }: { agentId: string; agentName: string }) {
  const { canOperate, keyName } = useSession();
  const history = useQuery(HistoryQuery, { agentId });
  const [live, setLive] = useState<Line[]>([]);
  const [streams, setStreams] = useState<Record<string, Stream>>({});
  const [conversationId, setConversationId] = useState<string>();
  // The reply to this person's last message: Send waits for it.
  const [awaiting, setAwaiting] = useState<string>();
  const [text, setText] = useState('');
  const send = useMutation(ChatMutation);
  const logRef = useRef<HTMLElement>(null);

  /** Adds a line (before `beforeId` if that is already shown) or stores a streamed one. */
  const upsert = useCallback((line: Line, beforeId?: string) => {
    setLive((prev) => {
      const i = prev.findIndex((l) => l.id === line.id);
      if (i >= 0) {
        if (prev[i]!.stored || !line.stored) return prev;
        const next = prev.slice();
        next[i] = line;
        return next;
      }
      const at = beforeId ? prev.findIndex((l) => l.id === beforeId) : -1;
      return at < 0 ? [...prev, line] : [...prev.slice(0, at), line, ...prev.slice(at)];
    });
  }, []);

  // Subscribed from the start (before any send), so no token of a reply is missed.
  const tokensError = useSubscription(TokensSubscription, { agentId }, ({ chatTokens: t }) => {
    setStreams((prev) => {
      const s = prev[t.replyId] ?? { parts: [], done: false, error: null };
      const parts = s.parts.slice();
      if (t.index >= 0) parts[t.index] = t.token;
      return { ...prev, [t.replyId]: { parts, done: s.done || t.done, error: t.error ?? s.error } };
    });
    // A reply nobody here asked for (another person, seen live): show it as it streams.
    upsert({
      id: t.replyId,
      conversationId: t.conversationId,
      mine: false,
      sender: agentName,
      content: '',
      stored: false,
    });
  });
  const onMessage = ({ messageSent: m }: { messageSent: ChatLineFragment }) => {
    if (m.kind === 'CHAT') upsert(lineOf(m));
  };
  const agentMessagesError = useSubscription(MessagesSubscription, { agentId }, onMessage);
  const conversationError = useSubscription(
    MessagesSubscription,
    { conversationId },
    onMessage,
    !!conversationId,
  );

  const historyLines = (history.data?.messages.nodes ?? []).map(lineOf).reverse();
  const lines = merge(historyLines, live);
  const storedIds = new Set(lines.filter((l) => l.stored).map((l) => l.id));
  const streaming = !!awaiting && !streams[awaiting]?.done && !storedIds.has(awaiting);

  // Should the stream's last event be missed, the stored reply still ends the wait: look for
  // it in the messages, no more often than every 10 s (the API's rate limit).
  const reloadHistory = history.reload;
  useEffect(() => {
    if (!streaming) return;
    const timer = setInterval(reloadHistory, 10_000);
    return () => clearInterval(timer);
  }, [streaming, reloadHistory]);

  // Keep the newest message in view.
  const lastLength = lines.length + (awaiting ? (streams[awaiting]?.parts.length ?? 0) : 0);
  useEffect(() => {
    const log = logRef.current;
    if (log) log.scrollTop = log.scrollHeight;
  }, [lastLength]);

  async function submit() {
    const message = text.trim();
    if (!message || send.busy || streaming) return;
    const r = await send.run({ agentId, message, conversationId: conversationId ?? null });
    if (!r) return;
    setText('');
    setConversationId(r.chat.conversationId);
    setAwaiting(r.chat.replyId);
    // Tokens may have come before this answer: the person's message goes above the reply.
    upsert(lineOf(r.chat.message), r.chat.replyId);
    upsert({
      id: r.chat.replyId,
      conversationId: r.chat.conversationId,
      mine: false,
      sender: agentName,
      content: '',
      stored: false,
    });
  }

  const liveError = tokensError ?? agentMessagesError ?? conversationError;

  return (
    <>
      <section aria-label="Conversation" aria-live="polite" className="chat-log panel" ref={logRef}>
        <h2>Conversation with {agentName}</h2>
        {history.loading && !history.data && <p className="muted">Loading…</p>}
        {history.data && lines.length === 0 && (
          <div className="muted">No conversations with {agentName} yet.</div>
        )}
        {lines.map((line, i) => {
          const stream = streams[line.id];
          const content = line.stored ? line.content : (stream?.parts.join('') ?? '');
          const pending = !line.stored && !stream?.done;
          const failed = !line.stored ? stream?.error : null;
          const newConversation = i > 0 && lines[i - 1]!.conversationId !== line.conversationId;
          return (
            <div key={line.id} className={line.mine ? 'me' : undefined}>
              {newConversation && <hr />}
              <div className="muted">
                {line.mine && line.sender === keyName ? 'You' : line.sender}
              </div>
              <p aria-busy={pending}>
                {content}
                {pending && <span className="muted"> {content ? '…' : 'replying…'}</span>}
              </p>
              {failed && <div className="error">The reply failed: {failed}</div>}
            </div>
          );
        })}
      </section>
      {history.error !== undefined && <ErrorNote error={history.error} />}
      {liveError !== undefined && <ErrorNote error={liveError} />}
      {canOperate && (
        <form
          className="panel"
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
        >
          <label htmlFor="chat-message">Message</label>
          <textarea
            id="chat-message"
            rows={3}
            cols={60}
            aria-describedby="chat-message-hint"
            value={text}
            onChange={(e) => setText(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
                e.preventDefault();
                void submit();
              }
            }}
          />
          <p className="hint" id="chat-message-hint">
            Ctrl+Enter sends.{' '}
            {conversationId
              ? 'Your messages continue this conversation.'
              : 'Your first message starts a new conversation.'}
          </p>
          {send.error !== undefined && <ErrorNote error={send.error} />}
          <div className="row">
            <button type="submit" disabled={!text.trim() || streaming || send.busy}>
              {send.busy ? 'Sending…' : 'Send'}
            </button>
            {conversationId && (
              <button
                type="button"
                className="secondary"
                disabled={streaming || send.busy}
                onClick={() => setConversationId(undefined)}
              >
                New conversation
              </button>
            )}
          </div>
        </form>
      )}
    </>
  );
}
