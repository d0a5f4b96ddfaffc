import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { createApi, type Api, ApiError } from './api';
import { graphql } from './gql';
import type { Role } from './gql/graphql';
import { ErrorNote } from './components/ErrorNote';

/** The key lives in session storage: gone with the tab, never in the URL. */
const KEY_ITEM = 'agent-platform.apiKey';

const ViewerQuery = graphql(`
  query ConsoleViewer {
    viewer {
      keyName
      role
      tenant {
        id
        name
      }
    }
  }
`);

export interface Session {
  api: Api;
  role: Role;
  keyName: string;
  tenantName: string;
  /** OPERATOR or ADMIN: may submit, approve, chat, upload. */
  canOperate: boolean;
  /** ADMIN: may create and change agents. */
  canAdmin: boolean;
  /** Whether the live connection is up (false while it reconnects). */
  liveUp: boolean;
  /** Times the live connection came back: queries ask again then (events were missed). */
  reconnects: number;
  signOut(): void;
}

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in console');
  return session;
}

/** Shows the sign-in form until a key is accepted, then its children with the session. */
export function SignedIn({ children }: { children: ReactNode }) {
  const [key, setKey] = useState(() => sessionStorage.getItem(KEY_ITEM));
  const [viewer, setViewer] = useState<{ role: Role; keyName: string; tenantName: string }>();
  const [error, setError] = useState<ApiError>();
  const [live, setLive] = useState({ up: true, reconnects: 0 });
  const signOut = () => {
    sessionStorage.removeItem(KEY_ITEM);
    setKey(null);
    setViewer(undefined);
    setLive({ up: true, reconnects: 0 });
  };
  // A key refused while in use (revoked): back to the sign-in form, saying why.
  const refused = (err: ApiError) => {
    signOut();
    setError(err);
  };
  const onLive = (up: boolean) =>
    setLive((prev) => (prev.up === up ? prev : { up, reconnects: prev.reconnects + (up ? 1 : 0) }));
  const api = useMemo(
    () => (key ? createApi(key, { onUnauthenticated: refused, onLive }) : null),
    [key],
  );
  useEffect(() => () => api?.close(), [api]);
  useEffect(() => {
    if (!api || !key) return;
    api.request(ViewerQuery).then(
      ({ viewer: v }) => {
        sessionStorage.setItem(KEY_ITEM, key);
        setViewer({ role: v.role, keyName: v.keyName, tenantName: v.tenant.name });
        setError(undefined);
      },
      (err: ApiError) => {
        sessionStorage.removeItem(KEY_ITEM);
        setKey(null);
        setError(err);
      },
    );
  }, [api, key]);

  if (!api || !viewer) return <SignInForm onKey={setKey} error={error} busy={!!key} />;
  const session: Session = {
    api,
    ...viewer,
    canOperate: viewer.role !== 'VIEWER',
    canAdmin: viewer.role === 'ADMIN',
    liveUp: live.up,
    reconnects: live.reconnects,
    signOut,
  };
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

function SignInForm(props: { onKey(key: string): void; error?: ApiError; busy: boolean }) {
  const [value, setValue] = useState('');
  return (
    <main className="sign-in">
      <h1>Agent platform</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (value.trim()) props.onKey(value.trim());
        }}
      >
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autoComplete="off"
          autoFocus
          value={value}
          onChange={(e) => setValue(e.target.value)}
          placeholder="ap_…"
        />
        <p className="hint">
          The key is kept in this tab’s session storage only. <code>npm start</code> prints where
          the local ADMIN key is (<code>.data/admin-key</code>).
        </p>
        <button type="submit" disabled={props.busy || !value.trim()}>
          {props.busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      {props.error && <ErrorNote error={props.error} />}
    </main>
  );
}
