package chdbserver.clients;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.Array;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.Statement;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Calendar;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TimeZone;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Typed values through a JDBC ResultSet, each compared exactly with what was inserted. */
class JdbcTypesTest {
    static final String TABLE = Ch.uniqueName("jdbc_types");

    static final UUID UUID_1 = UUID.fromString("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
    static final UUID UUID_2 = UUID.fromString("ffffffff-ffff-ffff-0000-000000000001");

    static Throwable setupFailure;

    @BeforeAll
    static void createAndFill() {
        setupFailure = Ch.trySetup(JdbcTypesTest::createAndFillTable);
    }

    @BeforeEach
    void requireSetup() {
        Ch.requireSetup(setupFailure);
    }

    static void createAndFillTable() throws Exception {
        try (Connection c = Ch.connect()) {
            Ch.exec(c, "CREATE TABLE " + TABLE + " ("
                    + "id UInt32, u UUID, ts DateTime64(3, 'UTC'), n Nullable(Int32), "
                    + "lc LowCardinality(String), d Decimal(18, 4), arr Array(String), "
                    + "m Map(String, UInt64), e Enum8('red' = 1, 'green' = 2, 'blue' = -3)"
                    + ") ENGINE = MergeTree ORDER BY id");
            Ch.exec(c, "INSERT INTO " + TABLE + " VALUES "
                    + "(1, '" + UUID_1 + "', '2024-02-29 23:59:58.123', 42, 'lc-one', 12345678901234.5678, "
                    + "['a', 'b''c', 'ü \\\\ tab\\t'], {'x': 1, 'y': 18446744073709551615}, 'red'), "
                    + "(2, '" + UUID_2 + "', '1970-01-01 00:00:00.000', NULL, '', -0.0001, "
                    + "[], {}, 'blue'), "
                    + "(3, '00000000-0000-0000-0000-000000000000', '2299-12-31 23:59:59.999', -2147483648, "
                    + "'lc-one', -99999999999999.9999, [''], {'': 0}, 'green')");
        }
    }

    @AfterAll
    static void dropTable() {
        Ch.dropQuietly(TABLE);
    }

    private static final String SELECT = "SELECT id, u, ts, n, lc, d, arr, m, e FROM " + TABLE + " ORDER BY id";

    @Test
    void columnTypesComeFromTheServer() throws Exception {
        try (Connection c = Ch.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(SELECT)) {
            ResultSetMetaData md = rs.getMetaData();
            List<String> types = new ArrayList<>();
            for (int i = 1; i <= md.getColumnCount(); i++) types.add(md.getColumnName(i) + " " + md.getColumnTypeName(i));
            assertEquals(List.of("id UInt32", "u UUID", "ts DateTime64(3, 'UTC')", "n Nullable(Int32)",
                    "lc LowCardinality(String)", "d Decimal(18, 4)", "arr Array(String)", "m Map(String, UInt64)",
                    // ClickHouse spells an Enum's type with its values in ascending order
                    "e Enum8('blue' = -3, 'red' = 1, 'green' = 2)"), types);
            assertEquals(ResultSetMetaData.columnNullable, md.isNullable(4));
            assertEquals(ResultSetMetaData.columnNoNulls, md.isNullable(1));
        }
    }

    @Test
    void everyValueReadsBackExactly() throws Exception {
        Calendar utc = Calendar.getInstance(TimeZone.getTimeZone("UTC"));
        try (Connection c = Ch.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(SELECT)) {
            // row 1
            assertTrue(rs.next());
            assertEquals(1, rs.getInt("id"));
            assertEquals(UUID_1, rs.getObject("u", UUID.class));
            assertEquals(UUID_1, rs.getObject("u"));
            assertEquals(UUID_1.toString(), rs.getString("u"));
            Instant ts1 = Instant.parse("2024-02-29T23:59:58.123Z");
            assertEquals(ts1, rs.getObject("ts", ZonedDateTime.class).toInstant());
            assertEquals(ts1.toEpochMilli(), rs.getTimestamp("ts", utc).getTime());
            assertEquals(42, rs.getInt("n"));
            assertFalse(rs.wasNull());
            assertEquals(42, ((Number) rs.getObject("n")).intValue());
            assertEquals("lc-one", rs.getString("lc"));
            assertEquals(new BigDecimal("12345678901234.5678"), rs.getBigDecimal("d"));
            Array arr = rs.getArray("arr");
            assertArrayEquals(new Object[] {"a", "b'c", "ü \\ tab\t"}, (Object[]) arr.getArray());
            assertEquals(Map.of("x", BigInteger.ONE, "y", new BigInteger("18446744073709551615")), asBigIntegerMap(rs.getObject("m")));
            assertEquals("red", rs.getString("e"));

            // row 2: a NULL, empty collections, the epoch, a negative enum value
            assertTrue(rs.next());
            assertEquals(2, rs.getInt("id"));
            assertEquals(UUID_2, rs.getObject("u", UUID.class));
            assertEquals(Instant.EPOCH, rs.getObject("ts", ZonedDateTime.class).toInstant());
            assertNull(rs.getObject("n"));
            assertEquals(0, rs.getInt("n"));
            assertTrue(rs.wasNull());
            assertNull(rs.getString("n"));
            assertEquals("", rs.getString("lc"));
            assertEquals(new BigDecimal("-0.0001"), rs.getBigDecimal("d"));
            assertArrayEquals(new Object[0], (Object[]) rs.getArray("arr").getArray());
            assertEquals(Map.of(), asBigIntegerMap(rs.getObject("m")));
            assertEquals("blue", rs.getString("e"));

            // row 3: extremes
            assertTrue(rs.next());
            assertEquals(new UUID(0, 0), rs.getObject("u", UUID.class));
            assertEquals(Instant.parse("2299-12-31T23:59:59.999Z"), rs.getObject("ts", ZonedDateTime.class).toInstant());
            assertEquals(Integer.MIN_VALUE, rs.getInt("n"));
            assertFalse(rs.wasNull());
            assertEquals(new BigDecimal("-99999999999999.9999"), rs.getBigDecimal("d"));
            assertArrayEquals(new Object[] {""}, (Object[]) rs.getArray("arr").getArray());
            assertEquals(Map.of("", BigInteger.ZERO), asBigIntegerMap(rs.getObject("m")));
            assertEquals("green", rs.getString("e"));

            assertFalse(rs.next());
        }
    }

    @Test
    void expressionsOfEachTypeWithoutATable() throws Exception {
        // The same types produced by expressions: what a BI tool's "SELECT ... " editor shows.
        String sql = "SELECT toUUID('" + UUID_1 + "') AS u, toDateTime64('2024-02-29 23:59:58.123', 3, 'UTC') AS ts, "
                + "CAST(NULL AS Nullable(Int32)) AS n, toLowCardinality('x') AS lc, toDecimal64('1.5000', 4) AS d, "
                + "['p', 'q'] AS arr, map('k', toUInt64(7)) AS m, CAST('green' AS Enum8('red' = 1, 'green' = 2)) AS e";
        try (Connection c = Ch.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            assertTrue(rs.next());
            assertEquals(UUID_1, rs.getObject("u", UUID.class));
            assertEquals(Instant.parse("2024-02-29T23:59:58.123Z"), rs.getObject("ts", ZonedDateTime.class).toInstant());
            assertNull(rs.getObject("n"));
            assertEquals("x", rs.getString("lc"));
            assertEquals(new BigDecimal("1.5000"), rs.getBigDecimal("d"));
            assertArrayEquals(new Object[] {"p", "q"}, (Object[]) rs.getArray("arr").getArray());
            assertEquals(Map.of("k", BigInteger.valueOf(7)), asBigIntegerMap(rs.getObject("m")));
            assertEquals("green", rs.getString("e"));
            assertFalse(rs.next());
        }
    }

    /** Map values as BigInteger, whichever Number type the driver picked for UInt64. */
    private static Map<String, BigInteger> asBigIntegerMap(Object value) {
        assertInstanceOf(Map.class, value);
        Map<String, BigInteger> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
            out.put((String) e.getKey(), new BigInteger(String.valueOf(e.getValue())));
        }
        return out;
    }
}
