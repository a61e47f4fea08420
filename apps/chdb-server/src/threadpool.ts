/**
 * Imported first by main.ts. Every chDB call that waits (a query, a block of a
 * streamed result, an insert) occupies one of libuv's worker threads for as long
 * as the engine works on it, and libuv has 4 unless told otherwise: four long
 * analyst queries would hold every thread, and the pipeline's writes, KILL QUERY
 * and health checks would wait behind them. libuv reads the size once, at its
 * first use of the pool, so it is set before anything else runs.
 */
process.env.UV_THREADPOOL_SIZE ??= '64';
