package chdbserver.clients;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/** A server error reaches the application as an SQLException that carries ClickHouse's code and message. */
class JdbcErrorsTest {
    @Test
    void syntaxErrorIsCode62() throws Exception {
        try (Connection c = Ch.connect(); Statement s = c.createStatement()) {
            SQLException e = assertThrows(SQLException.class, () -> s.executeQuery("SELEC 1 FROM nowhere"));
            System.out.println("[errors] syntax error: " + Ch.firstLine(e));
            assertTrue(e.getMessage().contains("Code: 62"), "message carries Code: 62: " + e.getMessage());
            assertTrue(e.getMessage().contains("SYNTAX_ERROR"), "message names SYNTAX_ERROR: " + e.getMessage());
            assertEquals(62, e.getErrorCode());
            assertStillUsable(s);
        }
    }

    @Test
    void unknownTableIsCode60() throws Exception {
        String table = Ch.uniqueName("no_such_table");
        try (Connection c = Ch.connect(); Statement s = c.createStatement()) {
            SQLException e = assertThrows(SQLException.class, () -> s.executeQuery("SELECT * FROM " + table));
            System.out.println("[errors] unknown table: " + Ch.firstLine(e));
            assertTrue(e.getMessage().contains("Code: 60"), "message carries Code: 60: " + e.getMessage());
            assertTrue(e.getMessage().contains(table), "message names the table: " + e.getMessage());
            assertEquals(60, e.getErrorCode());
            assertStillUsable(s);
        }
    }

    @Test
    void errorInAnUpdateToo() throws Exception {
        try (Connection c = Ch.connect(); Statement s = c.createStatement()) {
            SQLException e = assertThrows(SQLException.class,
                    () -> s.executeUpdate("INSERT INTO " + Ch.uniqueName("no_such_table") + " VALUES (1)"));
            assertTrue(e.getMessage().contains("Code: 60"), "message carries Code: 60: " + e.getMessage());
            assertStillUsable(s);
        }
    }

    /**
     * A query that fails after its first blocks: the driver must see an error, not rows. A
     * server answers 500 with the exception when it fails before anything was sent, which is
     * the case here (ten one-byte blocks stay in its output buffer); the 0.10.0 clients do not
     * understand an exception appended to a 200 response that has already begun (they read
     * its bytes as more rows), so a server must not start the response that early.
     */
    @Test
    void errorAfterTheFirstBlocksIsAnError() throws Exception {
        try (Connection c = Ch.connect(); Statement s = c.createStatement()) {
            java.util.List<Long> rows = new java.util.ArrayList<>();
            SQLException e = assertThrows(SQLException.class, () -> {
                try (ResultSet rs = s.executeQuery(
                        "SELECT number, throwIf(number = 5, 'boom at five') AS t FROM numbers(10) SETTINGS max_block_size = 1")) {
                    while (rs.next()) rows.add(rs.getLong(1));
                }
            }, () -> "no SQLException; the driver read rows " + rows);
            System.out.println("[errors] error after rows: " + Ch.firstLine(e));
            assertTrue(e.getMessage().contains("Code: 395"), "message carries Code: 395: " + e.getMessage());
            assertTrue(e.getMessage().contains("boom at five"), "message carries the text: " + e.getMessage());
            assertStillUsable(s);
        }
    }

    /** After an error the same statement and connection go on working. */
    private static void assertStillUsable(Statement s) throws SQLException {
        try (ResultSet rs = s.executeQuery("SELECT 'still here'")) {
            assertTrue(rs.next());
            assertEquals("still here", rs.getString(1));
        }
    }
}
