import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * One query through the official JDBC v2 driver at its defaults, as DBeaver or
 * Metabase send it; prints how it ended, for apps/chdb-server/test/jdbc.test.ts:
 * "OK <first column of each row>" or "ERROR <SQLException error code> <message>".
 *
 *   java -cp <clickhouse-jdbc classpath> JdbcQuery.java <jdbc url> <user> <password> <sql>
 */
public final class JdbcQuery {
    public static void main(String[] args) throws Exception {
        try (Connection c = DriverManager.getConnection(args[0], args[1], args[2]);
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(args[3])) {
            StringBuilder out = new StringBuilder("OK");
            while (rs.next()) out.append(' ').append(rs.getString(1));
            System.out.println(out);
        } catch (SQLException e) {
            System.out.println("ERROR " + e.getErrorCode() + " " + e.getMessage().replace('\n', ' '));
        }
    }
}
