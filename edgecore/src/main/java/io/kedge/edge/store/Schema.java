package io.kedge.edge.store;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The store's schema, versioned with SQLite's {@code user_version}: migration {@code i} takes the
 * database from version {@code i} to {@code i + 1}. Migrations are only ever appended. Table names
 * differ from KubeEdge's ({@code meta}, {@code meta_v2}), so a KubeEdge database file can be reused
 * without clashes.
 */
final class Schema {
  private static final Logger LOG = LoggerFactory.getLogger(Schema.class);

  private Schema() {}

  static final List<List<String>> MIGRATIONS =
      List.of(
          List.of(
              "CREATE TABLE objects ("
                  + " id INTEGER PRIMARY KEY,"
                  + " gvr TEXT NOT NULL,"
                  + " skey TEXT NOT NULL,"
                  + " namespace TEXT NOT NULL,"
                  + " name TEXT NOT NULL,"
                  + " uid TEXT NOT NULL,"
                  + " rv INTEGER NOT NULL,"
                  + " deleted INTEGER NOT NULL,"
                  + " updated INTEGER NOT NULL,"
                  + " value BLOB,"
                  + " UNIQUE (gvr, skey))",
              "CREATE TABLE events ("
                  + " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
                  + " gvr TEXT NOT NULL,"
                  + " type TEXT NOT NULL,"
                  + " namespace TEXT NOT NULL,"
                  + " name TEXT NOT NULL,"
                  + " rv INTEGER NOT NULL,"
                  + " hw INTEGER NOT NULL,"
                  + " value BLOB,"
                  + " prev BLOB)",
              "CREATE INDEX events_by_gvr ON events (gvr, seq)",
              "CREATE INDEX events_by_hw ON events (gvr, hw)",
              "CREATE TABLE resources ("
                  + " gvr TEXT PRIMARY KEY,"
                  + " highwater INTEGER NOT NULL,"
                  + " trimmed_hw INTEGER NOT NULL)",
              "CREATE TABLE scopes ("
                  + " gvr TEXT NOT NULL,"
                  + " namespace TEXT NOT NULL,"
                  + " app_id TEXT NOT NULL,"
                  + " synced_since INTEGER NOT NULL,"
                  + " PRIMARY KEY (gvr, namespace))",
              "CREATE TABLE blobs ("
                  + " key TEXT PRIMARY KEY,"
                  + " content_type TEXT NOT NULL,"
                  + " value BLOB NOT NULL,"
                  + " updated INTEGER NOT NULL)"),
          // Where each scope's watch resumes after a reconnect.
          List.of("ALTER TABLE scopes ADD COLUMN resume_rv INTEGER NOT NULL DEFAULT 0"));

  static int version(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet r = s.executeQuery("PRAGMA user_version")) {
      return r.next() ? r.getInt(1) : 0;
    }
  }

  /** Brings the database to the newest version, each step in its own transaction. */
  static void migrate(Connection c, String where) throws SQLException {
    int v = version(c);
    if (v > MIGRATIONS.size()) {
      throw new StoreException(
          where
              + " has schema version "
              + v
              + ", newer than this edgecore knows ("
              + MIGRATIONS.size()
              + ")");
    }
    boolean auto = c.getAutoCommit();
    c.setAutoCommit(false);
    try {
      for (int i = v; i < MIGRATIONS.size(); i++) {
        try (Statement s = c.createStatement()) {
          for (String sql : MIGRATIONS.get(i)) {
            s.execute(sql);
          }
          s.execute("PRAGMA user_version = " + (i + 1));
        }
        c.commit();
        LOG.info("store {}: schema migrated to version {}", where, i + 1);
      }
    } catch (SQLException e) {
      c.rollback();
      throw e;
    } finally {
      c.setAutoCommit(auto);
    }
  }
}
