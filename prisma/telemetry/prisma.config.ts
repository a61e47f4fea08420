import { defineDbConfig } from '../../packages/db/src/prisma-cli-config.js';

export default defineDbConfig(import.meta.dirname, 'TELEMETRY_DATABASE_URL');
