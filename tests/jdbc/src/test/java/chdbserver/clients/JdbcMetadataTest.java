package chdbserver.clients;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What DBeaver's and Metabase's schema browsers ask through DatabaseMetaData. */
class JdbcMetadataTest {
    static final String TABLE = Ch.uniqueName("jdbc_meta");

    static Throwable setupFailure;

    @BeforeAll
    static void createTable() {
        setupFailure = Ch.trySetup(() -> {
            try (Connection c = Ch.connect()) {
                Ch.exec(c, "CREATE TABLE " + TABLE + " (id UInt64, name String, ts DateTime64(3, 'UTC'), "
                        + "n Nullable(Int32) COMMENT 'maybe') ENGINE = MergeTree ORDER BY id");
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

    @Test
    void productNameAndVersion() throws Exception {
        try (Connection c = Ch.connect()) {
            DatabaseMetaData md = c.getMetaData();
            assertEquals("ClickHouse", md.getDatabaseProductName());
            String version = md.getDatabaseProductVersion();
            assertTrue(version != null && version.matches("\\d+\\.\\d+(\\.\\d+)*.*"),
                    "product version looks like a ClickHouse version: " + version);
            assertTrue(md.getDatabaseMajorVersion() >= 20, "major version " + md.getDatabaseMajorVersion());
            assertFalse(md.getDriverName().isEmpty());
            assertEquals(Ch.user(), md.getUserName());
        }
    }

    @Test
    void schemasListDatabases() throws Exception {
        try (Connection c = Ch.connect()) {
            DatabaseMetaData md = c.getMetaData();
            List<String> schemas = new ArrayList<>();
            try (ResultSet rs = md.getSchemas()) {
                while (rs.next()) schemas.add(rs.getString("TABLE_SCHEM"));
            }
            assertTrue(schemas.contains("default"), "schemas: " + schemas);
            assertTrue(schemas.contains("system"), "schemas: " + schemas);
            // Catalogs are not used by the driver (databases are schemas); the call must still work.
            try (ResultSet rs = md.getCatalogs()) {
                while (rs.next()) rs.getString("TABLE_CAT");
            }
            assertEquals("default", c.getSchema());
        }
    }

    @Test
    void tablesFindTheTestTable() throws Exception {
        try (Connection c = Ch.connect()) {
            DatabaseMetaData md = c.getMetaData();
            List<String> found = new ArrayList<>();
            try (ResultSet rs = md.getTables(null, "default", TABLE, null)) {
                while (rs.next()) {
                    found.add(rs.getString("TABLE_SCHEM") + "." + rs.getString("TABLE_NAME")
                            + " " + rs.getString("TABLE_TYPE"));
                }
            }
            assertEquals(List.of("default." + TABLE + " TABLE"), found);

            // A pattern, as a schema browser filters: the table is among default's tables.
            List<String> names = new ArrayList<>();
            try (ResultSet rs = md.getTables(null, "default", "jdbc\\_meta\\_%", new String[] {"TABLE"})) {
                while (rs.next()) names.add(rs.getString("TABLE_NAME"));
            }
            assertTrue(names.contains(TABLE), "tables: " + names);
        }
    }

    @Test
    void columnsDescribeTheTestTable() throws Exception {
        try (Connection c = Ch.connect()) {
            DatabaseMetaData md = c.getMetaData();
            List<String> cols = new ArrayList<>();
            try (ResultSet rs = md.getColumns(null, "default", TABLE, "%")) {
                while (rs.next()) {
                    cols.add(rs.getInt("ORDINAL_POSITION") + " " + rs.getString("COLUMN_NAME") + " "
                            + rs.getString("TYPE_NAME") + " " + rs.getInt("DATA_TYPE") + " "
                            + rs.getString("IS_NULLABLE") + " " + rs.getInt("NULLABLE"));
                }
            }
            assertEquals(List.of(
                    // the driver maps UInt64 to NUMERIC (it does not fit a BIGINT)
                    "1 id UInt64 " + Types.NUMERIC + " NO " + DatabaseMetaData.columnNoNulls,
                    "2 name String " + Types.VARCHAR + " NO " + DatabaseMetaData.columnNoNulls,
                    "3 ts DateTime64(3, 'UTC') " + Types.TIMESTAMP + " NO " + DatabaseMetaData.columnNoNulls,
                    "4 n Nullable(Int32) " + Types.INTEGER + " YES " + DatabaseMetaData.columnNullable),
                    cols);
        }
    }

    @Test
    void primaryKeysAndTableTypes() throws Exception {
        try (Connection c = Ch.connect()) {
            DatabaseMetaData md = c.getMetaData();
            List<String> keys = new ArrayList<>();
            try (ResultSet rs = md.getPrimaryKeys(null, "default", TABLE)) {
                while (rs.next()) keys.add(rs.getString("COLUMN_NAME") + ":" + rs.getInt("KEY_SEQ"));
            }
            assertEquals(List.of("id:1"), keys);
            List<String> types = new ArrayList<>();
            try (ResultSet rs = md.getTableTypes()) {
                while (rs.next()) types.add(rs.getString("TABLE_TYPE"));
            }
            assertTrue(types.contains("TABLE") && types.contains("VIEW"), "table types: " + types);
        }
    }
}
