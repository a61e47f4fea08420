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
} as const;
