import { Fragment } from 'react';
import { NavLink, Outlet, useLocation } from 'react-router';
import { useSession } from './session';

interface NavItem {
  to: string;
  label: string;
  testId: string;
  /** Active for these path prefixes. */
  match: (path: string) => boolean;
  sub?: boolean;
}

const NAV: NavItem[] = [
  { to: '/', label: 'Overview', testId: 'nav-overview', match: (p) => p === '/' },
  { to: '/kafka', label: 'Topics', testId: 'nav-topics', match: (p) => p === '/kafka' || p.startsWith('/kafka/topics'), sub: true },
  { to: '/kafka/groups', label: 'Consumer groups', testId: 'nav-groups', match: (p) => p.startsWith('/kafka/groups'), sub: true },
  { to: '/connectors', label: 'Connectors', testId: 'nav-connectors', match: (p) => p.startsWith('/connectors') },
  { to: '/sql', label: 'SQL', testId: 'nav-sql', match: (p) => p.startsWith('/sql') },
  { to: '/trace', label: 'Trace', testId: 'nav-trace', match: (p) => p.startsWith('/trace') },
  { to: '/schemas', label: 'Schemas', testId: 'nav-schemas', match: (p) => p.startsWith('/schemas') },
];

function Header() {
  const { info, error, writeEnabled, token, setToken } = useSession();
  return (
    <header className="top">
      <div className="brand">
        <span className="logo" aria-hidden="true">⇶</span> CDC console
      </div>
      <div className="top-right">
        <span
          className={`write-state ${writeEnabled ? 'on' : 'off'}`}
          data-testid="write-state"
          title={writeEnabled ? 'Connector actions are enabled (a token is required)' : 'The server has no CONSOLE_TOKEN: write actions are off'}
        >
          {info === null ? (error ? 'server unreachable' : '…') : writeEnabled ? 'write actions enabled' : 'read-only'}
        </span>
        <label className="token">
          <span>Token</span>
          <input
            type="password"
            data-testid="token-input"
            placeholder="Bearer token"
            autoComplete="off"
            value={token}
            onChange={(e) => setToken(e.target.value)}
          />
        </label>
      </div>
    </header>
  );
}

function Nav() {
  const { pathname } = useLocation();
  const { info } = useSession();
  return (
    <nav className="side">
      <ul>
        {NAV.map((n) => (
          <Fragment key={n.testId}>
            {n.testId === 'nav-topics' ? <li className="group">Kafka</li> : null}
            <li className={n.sub ? 'sub' : undefined}>
              <NavLink to={n.to} end data-testid={n.testId} className={() => (n.match(pathname) ? 'active' : '')}>
                {n.label}
              </NavLink>
            </li>
          </Fragment>
        ))}
      </ul>
      {info && info.links.length > 0 ? (
        <div className="side-links">
          <h3>Tools</h3>
          <ul>
            {info.links.map((l) => (
              <li key={`${l.name}|${l.url}`}>
                <a href={l.url} target="_blank" rel="noreferrer">
                  {l.name}
                </a>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </nav>
  );
}

export function Layout() {
  return (
    <div className="app">
      <Header />
      <div className="body">
        <Nav />
        <Outlet />
      </div>
    </div>
  );
}
