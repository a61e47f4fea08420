import { useMemo } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import type { SubjectView } from '../../../src/contract';
import { seg } from '../api';
import { ErrorBox, Loading } from '../components/ErrorBox';
import { Page, Section } from '../components/Page';
import { prettyJson } from '../format';
import { useApi } from '../hooks';

function SchemaView({ subject }: { subject: SubjectView }) {
  const [params, setParams] = useSearchParams();
  const versions = [...subject.versions].sort((a, b) => b.version - a.version);
  const wanted = Number(params.get('version'));
  const current = versions.find((v) => v.version === wanted) ?? versions[0];
  return (
    <Section title={<span className="mono">{subject.subject}</span>} className="schema-panel">
      <div className="versions" role="tablist">
        {versions.map((v) => (
          <button
            key={v.version}
            type="button"
            role="tab"
            aria-selected={v === current}
            className={v === current ? 'tab active' : 'tab'}
            onClick={() => setParams({ version: String(v.version) }, { replace: true })}
          >
            v{v.version} <span className="muted small">id {v.id}</span>
          </button>
        ))}
      </div>
      {current ? (
        <div data-testid="schema-view">
          <p className="small">
            version {current.version} · id {current.id} · {current.schemaType}
          </p>
          <pre className="json">{prettyJson(current.schema)}</pre>
        </div>
      ) : (
        <p className="muted" data-testid="schema-view">
          No versions.
        </p>
      )}
    </Section>
  );
}

export function SchemasPage() {
  const { subject } = useParams();
  const { data, error, loading } = useApi<SubjectView[]>('/api/schemas', 30_000);
  const subjects = useMemo(() => [...(data ?? [])].sort((a, b) => a.subject.localeCompare(b.subject)), [data]);
  const selected = subject ? subjects.find((s) => s.subject === subject) : undefined;

  return (
    <Page title={subject ? `Schema ${subject}` : 'Schemas'} heading="Schema registry" loaded={!loading}>
      <ErrorBox error={error} />
      {loading ? <Loading what="subjects" /> : null}
      {data ? (
        <div className="split">
          <Section title={`Subjects (${subjects.length})`} className="subjects">
            <ul className="subject-list" data-testid="subjects-list">
              {subjects.map((s) => (
                <li key={s.subject}>
                  <Link to={`/schemas/${seg(s.subject)}`} className={s.subject === subject ? 'active mono' : 'mono'}>
                    {s.subject}
                  </Link>
                  <span className="muted small"> {s.versions.length} v</span>
                </li>
              ))}
              {subjects.length === 0 ? <li className="muted">No subjects registered.</li> : null}
            </ul>
          </Section>
          {selected ? (
            <SchemaView key={selected.subject} subject={selected} />
          ) : subject ? (
            <ErrorBox error={`No subject ${subject}`} />
          ) : (
            <p className="muted">Select a subject.</p>
          )}
        </div>
      ) : null}
    </Page>
  );
}
