package chdbserver.clients;

import com.clickhouse.client.api.Client;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

/**
 * The server under test, from -Dch.url / -Dch.user / -Dch.password, and the two official
 * clients pointed at it with their defaults: nothing but the URL and the credentials.
 */
final class Ch {
    private Ch() {}

    /** e.g. http://127.0.0.1:8123, without a trailing slash. */
    static String url() {
        String url = System.getProperty("ch.url", "http://127.0.0.1:8123").trim();
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    static String user() {
        return System.getProperty("ch.user", "default");
    }

    static String password() {
        return System.getProperty("ch.password", "");
    }

    static String jdbcUrl() {
        return "jdbc:clickhouse:" + url() + "/default";
    }

    /** A JDBC v2 connection, as DBeaver, Metabase or Superset open one: URL, user, password. */
    static Connection connect() throws SQLException {
        return DriverManager.getConnection(jdbcUrl(), user(), password());
    }

    /** A client-v2 client with its defaults. */
    static Client client() {
        return new Client.Builder()
                .addEndpoint(url())
                .setUsername(user())
                .setPassword(password())
                .build();
    }

    /** A table name no other run uses: prefix plus a random suffix. */
    static String uniqueName(String prefix) {
        return prefix + "_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    }

    /** Runs DDL or another statement without a result through JDBC. */
    static void exec(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    /** Best effort: cleanup must not hide the failure that matters. */
    static void dropQuietly(String table) {
        try (Connection c = connect()) {
            exec(c, "DROP TABLE IF EXISTS " + table);
        } catch (Exception e) {
            System.err.println("[cleanup] could not drop " + table + ": " + firstLine(e));
        }
    }

    /**
     * Runs a class's shared setup (CREATE TABLE ...) and keeps its failure, if any, for
     * {@link #requireSetup}: each test then reports it itself instead of the whole class
     * collapsing into one anonymous error.
     */
    static Throwable trySetup(ThrowingRunnable setup) {
        try {
            setup.run();
            return null;
        } catch (Throwable t) {
            return t;
        }
    }

    static void requireSetup(Throwable failure) {
        if (failure != null) throw new AssertionError("setup failed: " + firstLine(failure), failure);
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    static String firstLine(Throwable t) {
        String m = String.valueOf(t.getMessage());
        int nl = m.indexOf('\n');
        return t.getClass().getSimpleName() + ": " + (nl < 0 ? m : m.substring(0, nl));
    }
}
