import { isRouteErrorResponse, Link, useRouteError } from 'react-router';
import { Page } from '../components/Page';

export function NotFoundPage() {
  return (
    <Page title="Not found" loaded>
      <p>
        No such page. <Link to="/">Back to the overview</Link>.
      </p>
    </Page>
  );
}

/** Shown when a route throws while rendering. */
export function RouteErrorPage() {
  const err = useRouteError();
  const message = isRouteErrorResponse(err) ? `${err.status} ${err.statusText}` : err instanceof Error ? err.message : String(err);
  return (
    <Page title="Error" loaded>
      <div className="error-box" role="alert">
        {message}
      </div>
      <p>
        <Link to="/">Back to the overview</Link>
      </p>
    </Page>
  );
}
