package chdbserver.clients;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/** PreparedStatement: parameters of the common JDBC types, and a 1,000-row batch insert read back row by row. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class JdbcPreparedStatementTest {
    static final String TABLE = Ch.uniqueName("jdbc_batch");
    static final int ROWS = 1000;
    static final Instant BASE = Instant.parse("2024-01-01T00:00:00Z");

    static Throwable setupFailure;

    @BeforeAll
    static void createTable() {
        setupFailure = Ch.trySetup(() -> {
            try (Connection c = Ch.connect()) {
                Ch.exec(c, "CREATE TABLE " + TABLE + " (id Int64, name String, ts DateTime64(3, 'UTC'), "
                        + "amount Decimal(18, 4), tag Nullable(String)) ENGINE = MergeTree ORDER BY id");
            }
        });
    }

    @BeforeEach
    void requireSetup() {
        Ch.requireSetup(setupFailure);
    }

    @AfterAll
    static void dropTable() {
        Ch.dropQuietly(TABLE);
    }

    // Row i of the batch; names repeat every 10 rows, every 7th tag is NULL.
    static String name(int i) { return "n" + (i % 10); }
    static Timestamp ts(int i) { return Timestamp.from(BASE.plusSeconds(3600L * i).plusMillis(i % 1000)); }
    static BigDecimal amount(int i) { return new BigDecimal(i).movePointLeft(4).add(new BigDecimal(i * 1000L)).setScale(4); }
    static String tag(int i) { return i % 7 == 0 ? null : "tag '" + i + "' \\ \"q\" ü\t;"; }

    @Test
    @Order(1)
    void batchInsertOfAThousandRows() throws Exception {
        try (Connection c = Ch.connect();
             PreparedStatement ps = c.prepareStatement("INSERT INTO " + TABLE + " (id, name, ts, amount, tag) VALUES (?, ?, ?, ?, ?)")) {
            for (int i = 0; i < ROWS; i++) {
                ps.setLong(1, i);
                ps.setString(2, name(i));
                ps.setTimestamp(3, ts(i));
                ps.setBigDecimal(4, amount(i));
                if (tag(i) == null) ps.setNull(5, Types.VARCHAR); else ps.setString(5, tag(i));
                ps.addBatch();
            }
            int[] counts = ps.executeBatch();
            assertEquals(ROWS, counts.length);
            for (int i = 0; i < ROWS; i++) {
                // 1 per row when the server's X-ClickHouse-Summary says written_rows = 1000
                assertEquals(1, counts[i], "update count of row " + i);
            }
        }
        try (Connection c = Ch.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id, name, ts, amount, tag FROM " + TABLE + " ORDER BY id")) {
            for (int i = 0; i < ROWS; i++) {
                assertTrue(rs.next(), "row " + i + " is there");
                assertEquals(i, rs.getLong("id"));
                assertEquals(name(i), rs.getString("name"), "name of row " + i);
                assertEquals(ts(i), rs.getTimestamp("ts"), "ts of row " + i);
                assertEquals(amount(i), rs.getBigDecimal("amount"), "amount of row " + i);
                assertEquals(tag(i), rs.getString("tag"), "tag of row " + i);
            }
            assertFalse(rs.next(), "no more than " + ROWS + " rows");
        }
    }

    @Test
    @Order(2)
    void selectWithStringLongAndTimestampParameters() throws Exception {
        try (Connection c = Ch.connect();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT id, ts FROM " + TABLE + " WHERE name = ? AND id >= ? AND ts >= ? ORDER BY id")) {
            ps.setString(1, "n7");
            ps.setLong(2, 500);
            ps.setTimestamp(3, ts(700));
            List<Long> ids = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getLong(1));
                    assertEquals(ts((int) rs.getLong(1)), rs.getTimestamp(2));
                }
            }
            List<Long> expected = new ArrayList<>();
            for (long i = 707; i < ROWS; i += 10) expected.add(i);
            assertEquals(expected, ids);

            // The same statement again with other values: nothing of the first run sticks.
            ps.setString(1, "n0");
            ps.setLong(2, 990);
            ps.setTimestamp(3, ts(0));
            ids.clear();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) ids.add(rs.getLong(1));
            }
            assertEquals(List.of(990L), ids);
        }
    }

    @Test
    @Order(3)
    void parametersRoundTripWithoutATable() throws Exception {
        String tricky = "it's a \\ \"test\" ü 😀\n\t; -- not a comment ?";
        Timestamp when = Timestamp.from(Instant.parse("2024-02-29T12:34:56.789Z"));
        try (Connection c = Ch.connect();
             PreparedStatement ps = c.prepareStatement("SELECT ? AS s, ? AS l, ? AS t, ? AS nothing")) {
            ps.setString(1, tricky);
            ps.setLong(2, Long.MIN_VALUE);
            ps.setTimestamp(3, when);
            ps.setNull(4, Types.VARCHAR);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next());
                assertEquals(tricky, rs.getString("s"));
                assertEquals(Long.MIN_VALUE, rs.getLong("l"));
                assertEquals(when, rs.getTimestamp("t"));
                assertNull(rs.getString("nothing"));
                assertFalse(rs.next());
            }
        }
    }
}
