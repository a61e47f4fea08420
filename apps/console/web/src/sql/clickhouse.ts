/**
 * A ClickHouse dialect for @codemirror/lang-sql: keywords, types and common
 * functions, plus completion of databases, tables and columns.
 *
 * lang-sql looks words up lower-cased for highlighting, so the dialect gets the
 * lower-cased lists, while completion offers the names as ClickHouse spells them
 * (ClickHouse function and type names are case-sensitive: toStartOfMinute, DateTime64).
 */
import { completeFromList, ifNotIn, type Completion, type CompletionSource } from '@codemirror/autocomplete';
import { LanguageSupport } from '@codemirror/language';
import { schemaCompletionSource, SQLDialect, type SQLNamespace } from '@codemirror/lang-sql';
import type { SqlSchema } from '../../../src/contract';

const KEYWORDS = `
select from where prewhere group by order having limit offset with totals rollup cube as on using join inner left right full
outer cross semi anti any all asof array global local distinct union intersect except into format settings sample final
and or not in is null like ilike between case when then else end exists interval asc desc nulls first last fill step
insert values create table database view materialized live dictionary function if engine partition primary key ttl
alter add drop modify column comment rename detach attach optimize deduplicate truncate exchange show describe desc
explain pipeline syntax plan ast kill query mutation system flush logs use set grant revoke to default codec after
delete update window over rows range preceding following unbounded current row qualify collate cast tuple map
true false replace ignore respect filter lateral natural top ties match
`;

const TYPES = `
UInt8 UInt16 UInt32 UInt64 UInt128 UInt256 Int8 Int16 Int32 Int64 Int128 Int256 Float32 Float64 BFloat16
Decimal Decimal32 Decimal64 Decimal128 Decimal256 Bool Boolean String FixedString UUID Date Date32 DateTime DateTime64
Enum Enum8 Enum16 Array Tuple Map Nullable LowCardinality IPv4 IPv6 JSON Object Nested Variant Dynamic
AggregateFunction SimpleAggregateFunction Point Ring Polygon MultiPolygon Interval Nothing
`;

const FUNCTIONS = `
count sum avg min max any anyLast argMin argMax uniq uniqExact uniqCombined uniqHLL12 groupArray groupUniqArray
groupArrayInsertAt quantile quantiles quantileExact quantileTiming quantileTDigest median stddevPop stddevSamp varPop
varSamp covarPop corr topK sumIf countIf avgIf minIf maxIf uniqIf anyIf argMaxIf sumMap minMap maxMap histogram
sequenceMatch sequenceCount windowFunnel retention simpleLinearRegression deltaSum
sumState countState uniqState avgState quantileState sumMerge countMerge uniqMerge avgMerge quantileMerge finalizeAggregation
row_number rank dense_rank lag lead lagInFrame leadInFrame first_value last_value nth_value ntile percent_rank cume_dist
now now64 today yesterday toDate toDate32 toDateTime toDateTime64 toUnixTimestamp toUnixTimestamp64Milli fromUnixTimestamp
fromUnixTimestamp64Milli toYear toQuarter toMonth toWeek toDayOfMonth toDayOfWeek toDayOfYear toHour toMinute toSecond
toStartOfYear toStartOfQuarter toStartOfMonth toStartOfWeek toMonday toStartOfDay toStartOfHour toStartOfMinute
toStartOfSecond toStartOfFiveMinutes toStartOfFiveMinute toStartOfTenMinutes toStartOfFifteenMinutes toStartOfInterval
toTimeZone timeZone toYYYYMM toYYYYMMDD toYYYYMMDDhhmmss formatDateTime parseDateTimeBestEffort parseDateTimeBestEffortOrNull
parseDateTime64BestEffort dateDiff date_diff dateAdd date_add dateSub date_sub addSeconds addMinutes addHours addDays
addWeeks addMonths addYears subtractSeconds subtractMinutes subtractHours subtractDays subtractWeeks subtractMonths
timeSlot timeSlots toIntervalSecond toIntervalMinute toIntervalHour toIntervalDay toIntervalWeek toIntervalMonth
toInt8 toInt16 toInt32 toInt64 toUInt8 toUInt16 toUInt32 toUInt64 toFloat32 toFloat64 toDecimal32 toDecimal64 toString
toFixedString toUUID toInt64OrNull toInt64OrZero toFloat64OrNull toDateOrNull toDateTimeOrNull toTypeName reinterpretAsString
length empty notEmpty lower upper lowerUTF8 upperUTF8 trim trimLeft trimRight trimBoth concat substring substr
substringUTF8 position positionCaseInsensitive startsWith endsWith replaceOne replaceAll replaceRegexpOne
replaceRegexpAll match extract extractAll like notLike ilike splitByChar splitByString splitByRegexp arrayStringConcat
format leftPad rightPad reverse base64Encode base64Decode hex unhex lengthUTF8 repeat
JSONExtract JSONExtractString JSONExtractInt JSONExtractUInt JSONExtractFloat JSONExtractBool JSONExtractRaw JSONHas
JSONLength JSONExtractKeys simpleJSONExtractString simpleJSONExtractInt toJSONString
array arrayJoin arrayMap arrayFilter arrayExists arrayAll arrayCount arraySum arrayAvg arrayMin arrayMax arraySort
arrayReverseSort arrayDistinct arrayUniq arrayConcat arrayElement arraySlice arrayReduce arrayZip arrayEnumerate
arrayFirst arrayLast has hasAll hasAny indexOf range emptyArrayString tuple tupleElement map mapKeys mapValues
mapContains untuple
if multiIf ifNull nullIf coalesce assumeNotNull toNullable isNull isNotNull greatest least
abs round roundDown floor ceil trunc exp log log2 log10 sqrt pow power intDiv modulo rand rand64 randCanonical
plus minus multiply divide negate bitAnd bitOr bitXor
cityHash64 sipHash64 xxHash64 murmurHash3_64 MD5 SHA256 farmHash64 generateUUIDv4 generateUUIDv7
formatReadableSize formatReadableQuantity formatReadableTimeDelta bar hostName version uptime currentDatabase
dictGet dictGetOrDefault dictHas throwIf sleep ignore materialize toLowCardinality runningDifference neighbor
`;

const words = (s: string): string[] => s.split(/\s+/).filter(Boolean);
const lower = (s: string): string => words(s).map((w) => w.toLowerCase()).join(' ');

export const ClickHouse = SQLDialect.define({
  keywords: lower(KEYWORDS),
  types: lower(TYPES),
  builtin: lower(FUNCTIONS),
  backslashEscapes: true,
  hashComments: true,
  doubleQuotedStrings: false,
  identifierQuotes: '`"',
  operatorChars: '*+-%<>!=&|~^/?:',
  caseInsensitiveIdentifiers: false,
});

const keywordOptions: Completion[] = [
  ...[...new Set(words(KEYWORDS))].map((k) => ({ label: k.toUpperCase(), type: 'keyword', boost: -1 })),
  ...words(TYPES).map((t) => ({ label: t, type: 'type', boost: -2 })),
  ...[...new Set(words(FUNCTIONS))].map((f) => ({ label: f, type: 'function', apply: `${f}(`, detail: 'fn' })),
];

const keywordSource: CompletionSource = ifNotIn(['QuotedIdentifier', 'String', 'LineComment', 'BlockComment', '.'], completeFromList(keywordOptions));

/** GET /api/sql/schema as lang-sql's completion namespace: database → table → columns. */
export function toNamespace(schema: SqlSchema): SQLNamespace {
  const ns: Record<string, SQLNamespace> = {};
  for (const db of schema.databases) {
    const tables: Record<string, SQLNamespace> = {};
    for (const t of db.tables) {
      tables[t.name] = {
        self: { label: t.name, type: 'type', detail: t.engine },
        children: t.columns.map((c) => ({ label: c.name, type: 'property', detail: c.type })),
      };
    }
    ns[db.name] = { self: { label: db.name, type: 'namespace', detail: 'database' }, children: tables };
  }
  return ns;
}

/** The database whose tables complete without a prefix. */
export function defaultDatabase(schema: SqlSchema): string | undefined {
  const names = schema.databases.map((d) => d.name);
  if (names.includes('analytics')) return 'analytics';
  if (names.includes('default')) return 'default';
  return names.find((n) => n !== 'system' && n !== 'INFORMATION_SCHEMA' && n !== 'information_schema');
}

export function clickhouse(schema: SqlSchema | null): LanguageSupport {
  const support = [ClickHouse.language.data.of({ autocomplete: keywordSource })];
  if (schema) {
    const defaultSchema = defaultDatabase(schema);
    support.push(
      ClickHouse.language.data.of({
        autocomplete: schemaCompletionSource({
          dialect: ClickHouse,
          schema: toNamespace(schema),
          ...(defaultSchema ? { defaultSchema } : {}),
        }),
      }),
    );
  }
  return new LanguageSupport(ClickHouse.language, support);
}
