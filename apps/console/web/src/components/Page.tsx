import type { ReactNode } from 'react';
import { useTitle } from '../hooks';

export interface PageProps {
  /** Used for document.title: "<title> · CDC console". */
  title: string;
  /** Shown as the page heading; defaults to title. */
  heading?: ReactNode;
  loaded: boolean;
  actions?: ReactNode;
  children: ReactNode;
}

/** Every page's main container: tests wait for data-loaded="true". */
export function Page({ title, heading, loaded, actions, children }: PageProps) {
  useTitle(title);
  return (
    <main data-testid="page" data-loaded={loaded ? 'true' : 'false'} className="page">
      <div className="page-head">
        <h1>{heading ?? title}</h1>
        {actions ? <div className="page-actions">{actions}</div> : null}
      </div>
      {children}
    </main>
  );
}

export function Section({ title, children, actions, className }: { title: ReactNode; children: ReactNode; actions?: ReactNode; className?: string }) {
  return (
    <section className={`panel ${className ?? ''}`}>
      <div className="panel-head">
        <h2>{title}</h2>
        {actions ? <div className="panel-actions">{actions}</div> : null}
      </div>
      {children}
    </section>
  );
}
