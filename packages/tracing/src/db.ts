import type { Attributes } from '@opentelemetry/api';
import {
  ATTR_DB_COLLECTION_NAME,
  ATTR_DB_NAMESPACE,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_SYSTEM_NAME,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  DB_SYSTEM_NAME_VALUE_POSTGRESQL,
} from '@opentelemetry/semantic-conventions';

/**
 * Span name and attributes of one repository method on a PostgreSQL table, after
 * the database semantic conventions: "{operation} {table}" (the operation being
 * the repository method, the unit the application asks for), plus where the
 * database is. The URL's credentials never reach the span.
 */
export function postgresSpan(connectionString: string | undefined, table: string) {
  const base: Attributes = { [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_POSTGRESQL, [ATTR_DB_COLLECTION_NAME]: table };
  if (connectionString) {
    try {
      const url = new URL(connectionString);
      base[ATTR_DB_NAMESPACE] = decodeURIComponent(url.pathname.replace(/^\//, ''));
      base[ATTR_SERVER_ADDRESS] = url.hostname;
      base[ATTR_SERVER_PORT] = Number(url.port || 5432);
    } catch {
      // Not a URL (a libpq keyword string): the span simply goes without the address.
    }
  }
  return (method: string) => ({
    name: `${method} ${table}`,
    attributes: { ...base, [ATTR_DB_OPERATION_NAME]: method },
  });
}
