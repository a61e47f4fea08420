import { createBrowserRouter } from 'react-router';
import { Layout } from './Layout';
import { ConnectorsPage } from './pages/Connectors';
import { GroupPage } from './pages/Group';
import { GroupsPage } from './pages/Groups';
import { MessagePage } from './pages/Message';
import { NotFoundPage, RouteErrorPage } from './pages/NotFound';
import { OverviewPage } from './pages/Overview';
import { SchemasPage } from './pages/Schemas';
import { TopicPage } from './pages/Topic';
import { TopicsPage } from './pages/Topics';
import { TracePage } from './pages/Trace';

export const router = createBrowserRouter([
  {
    path: '/',
    element: <Layout />,
    errorElement: <RouteErrorPage />,
    // Shown while a lazy route (SQL) loads on the very first page view.
    hydrateFallbackElement: <div className="boot">Loading…</div>,
    children: [
      { index: true, element: <OverviewPage /> },
      { path: 'kafka', element: <TopicsPage /> },
      { path: 'kafka/topics/:topic', element: <TopicPage /> },
      { path: 'kafka/topics/:topic/messages/:partition/:offset', element: <MessagePage /> },
      { path: 'kafka/groups', element: <GroupsPage /> },
      { path: 'kafka/groups/:group', element: <GroupPage /> },
      { path: 'connectors', element: <ConnectorsPage /> },
      {
        path: 'sql',
        // CodeMirror and the SQL page load on first visit only.
        lazy: async () => ({ Component: (await import('./pages/Sql')).SqlPage }),
      },
      { path: 'trace', element: <TracePage /> },
      { path: 'trace/:uuid', element: <TracePage /> },
      { path: 'schemas', element: <SchemasPage /> },
      { path: 'schemas/:subject', element: <SchemasPage /> },
      { path: '*', element: <NotFoundPage /> },
    ],
  },
]);
