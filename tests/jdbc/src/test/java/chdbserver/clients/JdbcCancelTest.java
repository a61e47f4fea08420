package chdbserver.clients;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/**
 * Statement.cancel() from another thread, as a SQL editor's Stop button does. The driver
 * (jdbc-v2 0.10.0) sends its own query_id with every query and cancel() runs
 * {@code KILL QUERY WHERE query_id = '<that id>'} as a second request; the server must run
 * it while the first is still going, and the first must then fail.
 */
class JdbcCancelTest {
    /** Functional bound, not a benchmark: how long after cancel() the execute call may still run. */
    static final long PROMPT_MS = 5_000;

    /**
     * 80 blocks of one row, a quarter second each: 20 s if nothing stops it (bounded, so a
     * server that cannot cancel still frees itself), cancellable between any two blocks. The
     * sum() makes its one row only at the end (and, unlike count(), needs every sleep to run),
     * so a server has nothing to send before it and a killed query can only end in an error
     * response (Code: 394, QUERY_WAS_CANCELLED).
     */
    static final String LONG_QUERY =
            "SELECT sum(sleepEachRow(0.25)) AS c FROM numbers(80) SETTINGS max_block_size = 1";

    @Test
    void cancelStopsALongQueryAndTheServerAnswersAfterwards() throws Exception {
        try (Connection c = Ch.connect(); Statement s = c.createStatement()) {
            long[] rows = {0};
            long[] sum = {-1};
            CompletableFuture<Void> running = CompletableFuture.runAsync(() -> {
                try (ResultSet rs = s.executeQuery(LONG_QUERY)) {
                    while (rs.next()) {
                        rows[0]++;
                        sum[0] = rs.getLong(1);
                    }
                } catch (SQLException e) {
                    throw new RuntimeException(e);
                }
            });
            Thread.sleep(1_500); // let it start
            if (running.isDone()) {
                try {
                    running.join();
                    fail("the long query ended by itself within 1.5 s (sum = " + sum[0] + ")");
                } catch (java.util.concurrent.CompletionException e) {
                    Throwable cause = e.getCause().getCause() != null ? e.getCause().getCause() : e.getCause();
                    fail("the long query failed before cancel(): " + Ch.firstLine(cause), cause);
                }
            }

            long cancelAt = System.nanoTime();
            CompletableFuture<Void> cancelling = CompletableFuture.runAsync(() -> {
                try {
                    s.cancel();
                } catch (SQLException e) {
                    throw new RuntimeException(e);
                }
            });
            try {
                try {
                    running.get(PROMPT_MS, TimeUnit.MILLISECONDS);
                    fail("the cancelled query completed normally (" + rows[0] + " row(s), sum = " + sum[0]
                            + ") instead of failing");
                } catch (TimeoutException e) {
                    fail("the query was still running " + PROMPT_MS + " ms after cancel()"
                            + (cancelling.isDone() ? "" : "; cancel() itself had not returned either"));
                } catch (ExecutionException e) {
                    long tookMs = (System.nanoTime() - cancelAt) / 1_000_000;
                    System.out.println("[cancel] execute failed " + tookMs + " ms after cancel(): "
                            + Ch.firstLine(e.getCause().getCause() != null ? e.getCause().getCause() : e.getCause()));
                    SQLException failure = assertInstanceOf(SQLException.class, e.getCause().getCause(),
                            "execute failed with an SQLException");
                    assertTrue(failure.getMessage().contains("Code: 394"),
                            "the server says the query was cancelled (Code: 394): " + failure.getMessage());
                }
                cancelling.get(PROMPT_MS, TimeUnit.MILLISECONDS); // cancel() itself returned without error
            } finally {
                // A server that could not cancel still finishes the query by itself: wait for it,
                // so the next test class meets an idle server.
                try {
                    running.get(40, TimeUnit.SECONDS);
                } catch (Exception ignored) {
                    // the outcome was judged above
                }
                try {
                    cancelling.get(40, TimeUnit.SECONDS);
                } catch (Exception ignored) {
                    // judged above
                }
            }
        }

        // The server still answers, promptly, on a fresh connection.
        long start = System.nanoTime();
        try (Connection c = Ch.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 42")) {
            assertTrue(rs.next());
            assertEquals(42, rs.getInt(1));
        }
        long tookMs = (System.nanoTime() - start) / 1_000_000;
        assertTrue(tookMs < PROMPT_MS, "the query after the cancelled one took " + tookMs + " ms");
    }
}
