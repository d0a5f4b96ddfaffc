import { useEffect, useState } from 'react';
import { SignedIn, useSession } from './session';
import { Organisation } from './screens/Organisation';
import { Tasks } from './screens/Tasks';
import { TaskDetail } from './screens/TaskDetail';
import { Chat } from './screens/Chat';
import { Knowledge } from './screens/Knowledge';
import { Performance } from './screens/Performance';

/** Screens by the first part of the hash (#/tasks/<id>): links work, and reload keeps the place. */
const SCREENS = [
  { path: 'organisation', title: 'Organisation' },
  { path: 'tasks', title: 'Tasks' },
  { path: 'chat', title: 'Chat' },
  { path: 'knowledge', title: 'Knowledge' },
  { path: 'performance', title: 'Performance' },
] as const;

function useRoute(): string[] {
  const read = () => location.hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  const [parts, setParts] = useState(read);
  useEffect(() => {
    const onChange = () => setParts(read());
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return parts;
}

export function App() {
  return (
    <SignedIn>
      <Shell />
    </SignedIn>
  );
}

function Shell() {
  const session = useSession();
  const [screen = 'organisation', id] = useRoute();
  return (
    <div className="shell">
      <header>
        <span className="brand">Agent platform</span>
        <nav aria-label="Screens">
          {SCREENS.map((s) => (
            <a
              key={s.path}
              href={`#/${s.path}`}
              aria-current={screen === s.path ? 'page' : undefined}
            >
              {s.title}
            </a>
          ))}
        </nav>
        <span className="who">
          {session.keyName} · {session.role} · {session.tenantName}
        </span>
        <button type="button" className="link" onClick={session.signOut}>
          Sign out
        </button>
      </header>
      {!session.liveUp && (
        <p role="status" className="live-down">
          Live updates paused: the API cannot be reached. Reconnecting… (what you see may be out of
          date until then)
        </p>
      )}
      <main>
        {screen === 'organisation' && <Organisation />}
        {screen === 'tasks' && (id ? <TaskDetail id={id} /> : <Tasks />)}
        {screen === 'chat' && <Chat agentId={id} />}
        {screen === 'knowledge' && <Knowledge />}
        {screen === 'performance' && <Performance />}
        {!SCREENS.some((s) => s.path === screen) && (
          <>
            <h1>Not found</h1>
            <p>
              No screen called “{screen}”. <a href="#/organisation">Go to the organisation.</a>
            </p>
          </>
        )}
      </main>
    </div>
  );
}
