/** Documented input limits (README, OpenAPI). Database column sizes match them. */
export const LIMITS = {
  nameLength: 200,
  emailLength: 254,
  genderLength: 50,
  countryLength: 100,
  addressLength: 500,
  phoneLength: 50,
  labelLength: 100, // prosthesis_type, muscle_group
  maxAge: 150,
  int32Max: 2_147_483_647,
  batchMaxItems: 10_000,
  /**
   * Event times every ClickHouse column they reach can hold, so every stored event
   * reaches every view: the per-minute aggregates bucket by DateTime (1970 … 2106-02-07),
   * narrower than DateTime64 (1900 … 2299) that keeps the events themselves.
   */
  eventTimeMin: '1970-01-01T00:00:00Z',
  eventTimeMax: '2105-12-31T23:59:59.999999Z',
} as const;

export const EVENT_TIME_RANGE_MESSAGE = `must lie between ${LIMITS.eventTimeMin} and ${LIMITS.eventTimeMax} (the range ClickHouse's per-minute aggregates hold)`;
