/**
 * CSV strings → the input types of the shared zod schemas. The schemas stay THE
 * validation (same rules as the APIs); the mappers only do what JSON would have done
 * for an API client: empty cells become null (optional fields) or stay missing
 * (required fields), numbers are parsed strictly ("12abc", "1.5" as an integer,
 * "NaN", "Infinity" and "0x10" are errors, never 12 or NaN), everything else is passed
 * as the string it is (the schemas trim and lower-case where they do for the API);
 * only timestamps and UUIDs, which the schemas do not trim, lose surrounding blanks,
 * as numbers do.
 */

export type CsvRecord = Readonly<Record<string, string | undefined>>;

export interface FieldIssue {
  field: string;
  message: string;
}

export interface Mapped {
  /** What goes into schema.safeParse: only known columns, so strict schemas see no unknown keys. */
  input: Record<string, unknown>;
  /** Problems found while converting (the schema's issues for these fields are then dropped). */
  issues: FieldIssue[];
}

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

const show = (s: string) => JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
/** Missing or only blanks. (The guard narrows to string in the else branch, which is what matters.) */
const isBlank = (s: string | undefined): s is undefined => s === undefined || s.trim() === '';

/** "42", " 42 ", "+42", "-7", "007" → number; anything else → an error message. */
export function parseIntStrict(raw: string): number | { error: string } {
  const s = raw.trim();
  if (!INTEGER.test(s)) return { error: `expected an integer, got ${show(raw)}` };
  const n = Number(s);
  if (!Number.isSafeInteger(n)) return { error: `integer out of range: ${show(raw)}` };
  return n;
}

/** Decimal notation with optional exponent → finite number; "NaN", "Infinity", "1e999", "12abc" → an error. */
export function parseNumberStrict(raw: string): number | { error: string } {
  const s = raw.trim();
  if (!DECIMAL.test(s)) return { error: `expected a finite decimal number, got ${show(raw)}` };
  const n = Number(s);
  if (!Number.isFinite(n)) return { error: `number out of range: ${show(raw)}` };
  return n;
}

class RowMapper {
  readonly input: Record<string, unknown> = {};
  readonly issues: FieldIssue[] = [];
  constructor(private readonly rec: CsvRecord) {}

  /** Required text: an empty cell is reported as such (not as "expected string, received undefined"). */
  requiredText(field: string, trim = false): void {
    const v = this.rec[field];
    if (isBlank(v)) this.issues.push({ field, message: 'required, but empty' });
    else this.input[field] = trim ? v.trim() : v;
  }
  /** Optional, nullable text: empty → null. */
  nullableText(field: string, trim = false): void {
    const v = this.rec[field];
    this.input[field] = isBlank(v) ? null : trim ? v.trim() : v;
  }
  /** Optional (not nullable) text: empty → absent. */
  optionalText(field: string, trim = false): void {
    const v = this.rec[field];
    if (!isBlank(v)) this.input[field] = trim ? v.trim() : v;
  }
  requiredInt(field: string): void {
    const v = this.rec[field];
    if (isBlank(v)) return void this.issues.push({ field, message: 'required, but empty' });
    this.set(field, parseIntStrict(v));
  }
  nullableInt(field: string): void {
    const v = this.rec[field];
    if (isBlank(v)) this.input[field] = null;
    else this.set(field, parseIntStrict(v));
  }
  requiredNumber(field: string): void {
    const v = this.rec[field];
    if (isBlank(v)) return void this.issues.push({ field, message: 'required, but empty' });
    this.set(field, parseNumberStrict(v));
  }
  private set(field: string, r: number | { error: string }): void {
    if (typeof r === 'number') this.input[field] = r;
    else this.issues.push({ field, message: r.error });
  }
}

/** users: name,email,age,gender,country,address,phone,registered_at → IncomingUser input (+ registered_at). */
export function mapUserRow(rec: CsvRecord): Mapped {
  const m = new RowMapper(rec);
  m.requiredText('name');
  m.requiredText('email');
  m.nullableInt('age');
  m.nullableText('gender');
  m.nullableText('country');
  m.nullableText('address');
  m.nullableText('phone');
  m.nullableText('registered_at', true); // empty → null → the database's now()
  return m;
}

/** signal_samples: [event_uuid,]user_id,prosthesis_type,… → IncomingTelemetryEvent input. */
export function mapTelemetryRow(rec: CsvRecord): Mapped {
  const m = new RowMapper(rec);
  m.optionalText('event_uuid', true); // empty → absent → derived (see uuid-v5.ts)
  m.requiredInt('user_id');
  m.requiredText('prosthesis_type');
  m.requiredText('muscle_group');
  m.requiredInt('signal_frequency');
  m.requiredInt('signal_duration');
  m.requiredNumber('signal_amplitude');
  m.requiredText('event_timestamp', true);
  return m;
}
