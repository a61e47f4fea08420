import type { Decoded } from '../../../src/contract';
import { JsonView } from './JsonView';

export function formatLabel(d: Decoded): string {
  switch (d.format) {
    case 'avro':
    case 'registry-json':
    case 'registry-protobuf':
      return `${d.format} · schema ${d.schemaId}`;
    default:
      return d.format;
  }
}

/** A decoded key or value: format label, pretty JSON, or the raw bytes. */
export function DecodedView({ decoded }: { decoded: Decoded }) {
  return (
    <div className="decoded">
      <span className={`badge fmt fmt-${decoded.format}`}>{formatLabel(decoded)}</span>
      {decoded.format === 'tombstone' ? (
        <p className="muted">tombstone (null value)</p>
      ) : decoded.format === 'raw' ? (
        <>
          {decoded.error ? <div className="warn-box">Could not decode: {decoded.error}</div> : null}
          {decoded.raw.utf8 !== undefined ? (
            <>
              <div className="label">utf8</div>
              <pre className="json">{decoded.raw.utf8}</pre>
            </>
          ) : null}
          <div className="label">base64</div>
          <pre className="json wrap">{decoded.raw.base64}</pre>
        </>
      ) : (
        <JsonView value={decoded.value} />
      )}
    </div>
  );
}
