export function ErrorBox({ error, testId, title }: { error: string | null | undefined; testId?: string; title?: string }) {
  if (!error) return null;
  return (
    <div className="error-box" role="alert" data-testid={testId}>
      {title ? <strong>{title}: </strong> : null}
      <span className="error-text">{error}</span>
    </div>
  );
}

export function Loading({ what }: { what?: string }) {
  return <div className="loading">Loading{what ? ` ${what}` : ''}…</div>;
}
