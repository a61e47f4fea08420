package chdbserver.clients;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.clickhouse.client.api.Client;
import com.clickhouse.client.api.insert.InsertResponse;
import com.clickhouse.client.api.query.GenericRecord;
import com.clickhouse.client.api.query.Records;
import com.clickhouse.data.ClickHouseFormat;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The official Java client (client-v2) with its defaults: queries as records, inserts of RowBinary, CSV and POJOs. */
class ClientV2Test {
    static final String EVENTS = Ch.uniqueName("client_v2_events");
    static final String POJOS = Ch.uniqueName("client_v2_pojos");
    static final long TIMEOUT_S = 30;

    static Client client;
    static Throwable setupFailure;

    @BeforeAll
    static void setUp() {
        client = Ch.client();
        setupFailure = Ch.trySetup(ClientV2Test::createTables);
    }

    @BeforeEach
    void requireSetup() {
        Ch.requireSetup(setupFailure);
    }

    static void createTables() throws Exception {
        client.execute("CREATE TABLE " + EVENTS + " (id UInt32, name String, ts DateTime64(3, 'UTC'), "
                + "v Nullable(Float64)) ENGINE = MergeTree ORDER BY id").get(TIMEOUT_S, TimeUnit.SECONDS).close();
        client.execute("CREATE TABLE " + POJOS + " (id Int64, name String, score Float64, tags Array(String), "
                + "note Nullable(String)) ENGINE = MergeTree ORDER BY id").get(TIMEOUT_S, TimeUnit.SECONDS).close();
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (client == null) return;
        for (String t : List.of(EVENTS, POJOS)) {
            try {
                client.execute("DROP TABLE IF EXISTS " + t).get(TIMEOUT_S, TimeUnit.SECONDS).close();
            } catch (Exception e) {
                System.err.println("[cleanup] could not drop " + t + ": " + Ch.firstLine(e));
            }
        }
        client.close();
    }

    @Test
    void ping() {
        assertTrue(client.ping(), "ping");
    }

    @Test
    void queryReadAsRecords() throws Exception {
        List<String> seen = new ArrayList<>();
        try (Records records = client.queryRecords(
                "SELECT number, toString(number * 11) AS s, toDecimal64(number, 2) / 4 AS q, "
                        + "[toInt64(number), toInt64(number) + 1] AS pair FROM numbers(10) WHERE number % 2 = 0 ORDER BY number")
                .get(TIMEOUT_S, TimeUnit.SECONDS)) {
            for (GenericRecord r : records) {
                seen.add(r.getLong("number") + "|" + r.getString("s") + "|" + r.getBigDecimal("q").toPlainString()
                        + "|" + Arrays.toString(r.getLongArray("pair")));
            }
            assertEquals(List.of("0|0|0.00|[0, 1]", "2|22|0.50|[2, 3]", "4|44|1.00|[4, 5]",
                    "6|66|1.50|[6, 7]", "8|88|2.00|[8, 9]"), seen);
            // X-ClickHouse-Summary: numbers(10) is read whole, five rows come out.
            assertEquals(10, records.getReadRows(), "read_rows");
            assertEquals(5, records.getResultRows(), "result_rows");
            assertFalse(records.getQueryId() == null || records.getQueryId().isEmpty(), "query id");
        }
    }

    @Test
    void queryAllWithServerSideParameters() throws Exception {
        // client-v2 sends named parameters as param_<name> for {name:Type} placeholders, as
        // they are: a tab or a backslash in a value would reach the server unescaped (and fail
        // on a server too), so the value keeps to what needs no escaping.
        String s = "it's \"q\" ü; -- {x:String} ?";
        List<GenericRecord> rows = client.queryAll(
                "SELECT {s:String} AS s, {n:UInt64} + 1 AS n1", java.util.Map.of("s", s, "n", 41));
        assertEquals(1, rows.size());
        assertEquals(s, rows.get(0).getString("s"));
        assertEquals(42, rows.get(0).getLong("n1"));
    }

    @Test
    void insertRowBinaryStreamAndReadBack() throws Exception {
        int n = 100;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < n; i++) {
            writeUInt32(out, 1_000 + i);
            writeString(out, name(i));
            writeInt64(out, ts(i).toEpochMilli()); // DateTime64(3): milliseconds since the epoch
            if (v(i) == null) {
                out.write(1);
            } else {
                out.write(0);
                writeFloat64(out, v(i));
            }
        }
        try (InsertResponse r = client.insert(EVENTS, new ByteArrayInputStream(out.toByteArray()), ClickHouseFormat.RowBinary)
                .get(TIMEOUT_S, TimeUnit.SECONDS)) {
            assertEquals(n, r.getWrittenRows(), "written_rows");
        }
        List<GenericRecord> rows = client.queryAll(
                "SELECT id, name, ts, v FROM " + EVENTS + " WHERE id >= 1000 AND id < 2000 ORDER BY id");
        assertEquals(n, rows.size());
        for (int i = 0; i < n; i++) {
            GenericRecord r = rows.get(i);
            assertEquals(1_000 + i, r.getLong("id"));
            assertEquals(name(i), r.getString("name"), "name of row " + i);
            assertEquals(ts(i), r.getZonedDateTime("ts").toInstant(), "ts of row " + i);
            if (v(i) == null) assertNull(r.getObject("v"), "v of row " + i);
            else assertEquals(v(i), r.getDouble("v"), 0.0, "v of row " + i);
        }
    }

    @Test
    void insertCsvWithCrlfLineEndingsAndReadBack() throws Exception {
        String csv = "1,plain,2024-01-02 03:04:05.678,1.5\r\n"
                + "2,\"with, comma and \"\"quotes\"\"\",1970-01-01 00:00:00.000,\\N\r\n"
                + "3,\"multi\r\nline\",2299-12-31 23:59:59.999,-0.25\r\n";
        try (InsertResponse r = client.insert(EVENTS, new ByteArrayInputStream(csv.getBytes(StandardCharsets.UTF_8)), ClickHouseFormat.CSV)
                .get(TIMEOUT_S, TimeUnit.SECONDS)) {
            assertEquals(3, r.getWrittenRows(), "written_rows");
        }
        List<GenericRecord> rows = client.queryAll("SELECT id, name, ts, v FROM " + EVENTS + " WHERE id < 1000 ORDER BY id");
        List<String> got = new ArrayList<>();
        for (GenericRecord r : rows) {
            got.add(r.getLong("id") + "|" + r.getString("name") + "|" + r.getZonedDateTime("ts").toInstant()
                    + "|" + r.getObject("v"));
        }
        assertEquals(List.of(
                "1|plain|2024-01-02T03:04:05.678Z|1.5",
                "2|with, comma and \"quotes\"|1970-01-01T00:00:00Z|null",
                "3|multi\r\nline|2299-12-31T23:59:59.999Z|-0.25"), got);
    }

    /** A POJO insert: the client reads the table's schema (DESCRIBE) and writes RowBinary itself. */
    @Test
    void insertPojosAndReadBack() throws Exception {
        client.register(Score.class, client.getTableSchema(POJOS));
        List<Score> scores = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            scores.add(new Score(i, "p" + i + " ü", i * 0.5, i % 3 == 0 ? List.of() : List.of("t" + i, "x"),
                    i % 4 == 0 ? null : "note " + i));
        }
        try (InsertResponse r = client.insert(POJOS, scores).get(TIMEOUT_S, TimeUnit.SECONDS)) {
            assertEquals(50, r.getWrittenRows(), "written_rows");
        }
        List<GenericRecord> rows = client.queryAll("SELECT id, name, score, tags, note FROM " + POJOS + " ORDER BY id");
        assertEquals(50, rows.size());
        for (int i = 0; i < 50; i++) {
            GenericRecord r = rows.get(i);
            Score s = scores.get(i);
            assertEquals(s.getId(), r.getLong("id"));
            assertEquals(s.getName(), r.getString("name"));
            assertEquals(s.getScore(), r.getDouble("score"), 0.0);
            assertEquals(s.getTags(), Arrays.asList(r.getStringArray("tags")));
            assertEquals(s.getNote(), r.getObject("note") == null ? null : r.getString("note"));
        }
    }

    // rows of the RowBinary insert
    static String name(int i) { return i % 5 == 0 ? "" : "row " + i + " — ü \t \\ '" ; }
    static Instant ts(int i) { return Instant.parse("2024-06-01T00:00:00Z").plusMillis(1_234_567L * i); }
    static Double v(int i) { return i % 3 == 0 ? null : i * 1.25 - 7; }

    static void writeUInt32(ByteArrayOutputStream out, long v) {
        out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
    }

    static void writeInt64(ByteArrayOutputStream out, long v) {
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
    }

    static void writeFloat64(ByteArrayOutputStream out, double v) {
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(v).array());
    }

    static void writeString(ByteArrayOutputStream out, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        long len = b.length;
        do { // unsigned LEB128 length
            int bits = (int) (len & 0x7f);
            len >>>= 7;
            out.write(len != 0 ? bits | 0x80 : bits);
        } while (len != 0);
        out.writeBytes(b);
    }

    /** A plain bean; client-v2 maps its getters and setters to the table's columns by name. */
    public static class Score {
        private long id;
        private String name;
        private double score;
        private List<String> tags;
        private String note;

        public Score() {}

        Score(long id, String name, double score, List<String> tags, String note) {
            this.id = id;
            this.name = name;
            this.score = score;
            this.tags = tags;
            this.note = note;
        }

        public long getId() { return id; }
        public void setId(long id) { this.id = id; }
        public String getName() { return name; }
        public void setName(String name) { this.name = name; }
        public double getScore() { return score; }
        public void setScore(double score) { this.score = score; }
        public List<String> getTags() { return tags; }
        public void setTags(List<String> tags) { this.tags = tags; }
        public String getNote() { return note; }
        public void setNote(String note) { this.note = note; }
    }
}
