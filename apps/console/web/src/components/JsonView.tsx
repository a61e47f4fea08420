import { prettyJson } from '../format';

export function JsonView({ value, className }: { value: unknown; className?: string }) {
  return <pre className={`json ${className ?? ''}`}>{prettyJson(value)}</pre>;
}
