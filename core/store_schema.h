/*
 * The store's schema, as forward migrations. Migration N takes a store at
 * PRAGMA user_version N-1 to N; ear_store_open() runs every step the file
 * has not seen, each in its own transaction. Never edit a shipped step: add
 * the next one.
 */
#ifndef EAR_STORE_SCHEMA_H
#define EAR_STORE_SCHEMA_H

static const char *const ear_migrations[] = {
    /* 1: sources, mentions, verdicts, queue, events */
    "CREATE TABLE sources ("
    "  name TEXT PRIMARY KEY,"
    "  etag TEXT, last_modified TEXT,"
    "  last_poll INTEGER NOT NULL DEFAULT 0,"
    "  last_success INTEGER NOT NULL DEFAULT 0,"
    "  last_new INTEGER NOT NULL DEFAULT 0,"
    "  next_due INTEGER NOT NULL DEFAULT 0,"
    "  failures INTEGER NOT NULL DEFAULT 0,"
    "  last_status TEXT, last_error TEXT,"
    "  items_total INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE TABLE mentions ("
    "  id INTEGER PRIMARY KEY,"
    "  source TEXT NOT NULL, key TEXT NOT NULL,"
    "  guid TEXT, url TEXT, author TEXT, title TEXT, text TEXT,"
    "  rating REAL, reach INTEGER,"
    "  published INTEGER, updated INTEGER, first_seen INTEGER NOT NULL,"
    "  lang TEXT,"
    "  UNIQUE (source, key)"
    ");"
    "CREATE INDEX mentions_url ON mentions(url) WHERE url IS NOT NULL;"
    "CREATE INDEX mentions_first_seen ON mentions(first_seen);"
    "CREATE TABLE verdicts ("
    "  mention_id INTEGER PRIMARY KEY REFERENCES mentions(id),"
    "  flag INTEGER NOT NULL, score REAL NOT NULL,"
    "  severity INTEGER NOT NULL,"
    "  categories TEXT NOT NULL DEFAULT '[]',"
    "  matches TEXT NOT NULL DEFAULT '[]',"
    "  brand TEXT, team TEXT, lang TEXT, explain TEXT,"
    "  analyzed_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX verdicts_flag ON verdicts(flag);"
    "CREATE TABLE queue ("
    "  id INTEGER PRIMARY KEY,"
    "  mention_id INTEGER NOT NULL UNIQUE REFERENCES mentions(id),"
    "  state TEXT NOT NULL DEFAULT 'new' CHECK (state IN"
    "    ('new','assigned','responded','resolved','dismissed')),"
    "  severity INTEGER NOT NULL,"
    "  category TEXT, categories TEXT NOT NULL DEFAULT '[]',"
    "  team TEXT, owner TEXT, brand TEXT, source TEXT NOT NULL, lang TEXT,"
    "  rating REAL, reach INTEGER,"
    "  created INTEGER NOT NULL, due INTEGER,"
    "  first_response INTEGER, resolved_at INTEGER,"
    "  dismiss_reason TEXT,"
    "  updated INTEGER NOT NULL"
    ");"
    "CREATE INDEX queue_open ON queue(state, severity DESC, created);"
    "CREATE INDEX queue_team ON queue(team, state);"
    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY,"
    "  at INTEGER NOT NULL,"
    "  queue_id INTEGER, mention_id INTEGER,"
    "  actor TEXT, kind TEXT NOT NULL,"
    "  from_state TEXT, to_state TEXT, note TEXT"
    ");"
    "CREATE INDEX events_queue ON events(queue_id);",

    /* 2: indexes for the queue's priority order and the digest's event
     * scans (queue list first page from ~100 ms to ~7 ms at 100k rows) */
    "CREATE INDEX queue_priority ON queue(severity DESC,"
    "  (rating IS NULL OR rating <= 0), rating,"
    "  (reach IS NULL OR reach < 0), reach DESC, created, id)"
    "  WHERE state IN ('new','assigned','responded');"
    "CREATE INDEX queue_overdue ON queue(due)"
    "  WHERE state IN ('new','assigned') AND first_response IS NULL;"
    "CREATE INDEX events_kind_at ON events(kind, at);",

    /* 3: output: when each queued mention happened (its published time,
     * else first seen), for the per brand and category counts behind
     * complaint-surge incidents; the incidents and their mentions; the
     * outbox of alerts waiting for their sinks; the output stage's own
     * bookkeeping (the last queue row incident detection has seen). */
    "ALTER TABLE queue ADD COLUMN happened INTEGER;"
    "UPDATE queue SET happened = (SELECT CASE WHEN m.published > 0"
    "  AND m.published <= queue.created THEN m.published"
    "  ELSE m.first_seen END FROM mentions m WHERE m.id = queue.mention_id);"
    "CREATE INDEX queue_pair ON queue(brand, category, happened);"
    "CREATE TABLE incidents ("
    "  id INTEGER PRIMARY KEY,"
    "  state TEXT NOT NULL DEFAULT 'open'"
    "    CHECK (state IN ('open','closed')),"
    "  brand TEXT, category TEXT NOT NULL, team TEXT,"
    "  severity INTEGER NOT NULL DEFAULT 0,"
    "  opened INTEGER NOT NULL, closed_at INTEGER,"
    "  started INTEGER NOT NULL, last_at INTEGER NOT NULL,"
    "  last_added INTEGER NOT NULL,"
    "  count INTEGER NOT NULL, peak INTEGER NOT NULL,"
    "  span INTEGER NOT NULL, threshold INTEGER NOT NULL, baseline REAL,"
    "  first_queue_id INTEGER, terms TEXT NOT NULL DEFAULT '[]',"
    "  alerted_count INTEGER NOT NULL DEFAULT 0, reason TEXT NOT NULL"
    ");"
    "CREATE INDEX incidents_open ON incidents(state, brand, category);"
    "CREATE INDEX incidents_last ON incidents(last_at);"
    "CREATE TABLE incident_mentions ("
    "  incident_id INTEGER NOT NULL REFERENCES incidents(id),"
    "  queue_id INTEGER NOT NULL UNIQUE REFERENCES queue(id),"
    "  PRIMARY KEY (incident_id, queue_id)"
    ") WITHOUT ROWID;"
    "CREATE TABLE outbox ("
    "  id INTEGER PRIMARY KEY,"
    "  sink TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  queue_id INTEGER, incident_id INTEGER,"
    "  severity INTEGER NOT NULL DEFAULT 0,"
    "  payload TEXT NOT NULL,"
    "  idem TEXT NOT NULL UNIQUE,"
    "  state TEXT NOT NULL DEFAULT 'pending'"
    "    CHECK (state IN ('pending','sent','folded','skipped')),"
    "  checked INTEGER NOT NULL DEFAULT 1,"
    "  created INTEGER NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt INTEGER NOT NULL,"
    "  last_attempt INTEGER, last_error TEXT,"
    "  sent_at INTEGER, folded_into INTEGER"
    ");"
    "CREATE INDEX outbox_pending ON outbox(sink, next_attempt)"
    "  WHERE state = 'pending';"
    "CREATE INDEX outbox_sent ON outbox(sink, sent_at) WHERE state = 'sent';"
    "CREATE INDEX outbox_folded ON outbox(folded_into)"
    "  WHERE folded_into IS NOT NULL;"
    "CREATE TABLE output_state (key TEXT PRIMARY KEY,"
    "  value INTEGER NOT NULL);"
    "INSERT INTO output_state VALUES ('incidents.last_queue_id',"
    "  (SELECT coalesce(max(id), 0) FROM queue));",

    /* 4: web: the users who log in to the inbox, as `earshot user add`
     * and `passwd` write them (docs/web.md). A row without a role holds
     * only the password of a user the config's users: list defines. */
    "CREATE TABLE users ("
    "  name TEXT PRIMARY KEY COLLATE NOCASE,"
    "  team TEXT,"
    "  role TEXT CHECK (role IS NULL OR role IN ('agent','lead','admin')),"
    "  password_hash TEXT,"
    "  created INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL"
    ");",

    /* 5: output: the open items in priority order, overdue ones apart
     * (overdue sorts first but depends on the clock), each index carrying
     * what the overdue test reads; the first page of `queue list` at
     * 100,000 items goes from a sort of every open item (~330 ms) to two
     * short index scans (~6 ms). They replace queue_priority. */
    "CREATE INDEX queue_overdue_prio ON queue(severity DESC,"
    "  (rating IS NULL OR rating <= 0), rating,"
    "  (reach IS NULL OR reach < 0), reach DESC, created, id, due)"
    "  WHERE state IN ('new','assigned') AND first_response IS NULL;"
    "CREATE INDEX queue_open_prio ON queue(severity DESC,"
    "  (rating IS NULL OR rating <= 0), rating,"
    "  (reach IS NULL OR reach < 0), reach DESC, created, id, state, due,"
    "  first_response) WHERE state IN ('new','assigned','responded');"
    "DROP INDEX queue_priority;",

    /* 6: output: the digest's queue figures from indexes instead of
     * passes over the whole queue (a 24 h digest at 100,000 items): what
     * was queued, answered and resolved in a period, and the open backlog
     * by team. The team index compares like the queue filters (ignoring
     * case) and replaces queue_team, which they could not use. The two
     * partial ones cost nothing when an item is queued. */
    "CREATE INDEX queue_created ON queue(created, state, due,"
    "  first_response);"
    "CREATE INDEX queue_responded ON queue(first_response, created)"
    "  WHERE first_response IS NOT NULL;"
    "CREATE INDEX queue_resolved ON queue(state, resolved_at, created)"
    "  WHERE resolved_at IS NOT NULL;"
    "CREATE INDEX queue_team_open ON queue(team COLLATE NOCASE, state,"
    "  first_response, due);"
    "DROP INDEX queue_team;",

    /* 7: output: an alert's payload (its JSON snapshot) is stored once in
     * alerts, however many sinks it goes to; each outbox row names it by
     * alert_id. Queueing 10,000 mentions with two sinks wrote 20,000
     * copies of ~500 bytes; now 10,000. The outbox is rebuilt for it (SQLite
     * cannot drop a column that is NOT NULL), and its state check is
     * written with OR: SQLite checks an IN list of more than two values
     * through a temporary b-tree built for every row written, a third of
     * the cost of an outbox insert. */
    "CREATE TABLE alerts (id INTEGER PRIMARY KEY,"
    "  payload TEXT NOT NULL);"
    "INSERT INTO alerts (id, payload) SELECT id, payload FROM outbox;"
    "CREATE TABLE outbox_7 ("
    "  id INTEGER PRIMARY KEY,"
    "  sink TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  queue_id INTEGER, incident_id INTEGER,"
    "  severity INTEGER NOT NULL DEFAULT 0,"
    "  alert_id INTEGER NOT NULL REFERENCES alerts(id),"
    "  idem TEXT NOT NULL UNIQUE,"
    "  state TEXT NOT NULL DEFAULT 'pending'"
    "    CHECK (state = 'pending' OR state = 'sent' OR state = 'folded'"
    "      OR state = 'skipped'),"
    "  checked INTEGER NOT NULL DEFAULT 1,"
    "  created INTEGER NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt INTEGER NOT NULL,"
    "  last_attempt INTEGER, last_error TEXT,"
    "  sent_at INTEGER, folded_into INTEGER"
    ");"
    "INSERT INTO outbox_7 SELECT id, sink, kind, queue_id, incident_id,"
    "  severity, id, idem, state, checked, created, attempts, next_attempt,"
    "  last_attempt, last_error, sent_at, folded_into FROM outbox;"
    "DROP TABLE outbox;"
    "ALTER TABLE outbox_7 RENAME TO outbox;"
    "CREATE INDEX outbox_pending ON outbox(sink, next_attempt)"
    "  WHERE state = 'pending';"
    "CREATE INDEX outbox_sent ON outbox(sink, sent_at) WHERE state = 'sent';"
    "CREATE INDEX outbox_folded ON outbox(folded_into)"
    "  WHERE folded_into IS NOT NULL;",

    /* 8: a review page's own rating (schema.org AggregateRating: 1-5 and
     * the number of ratings behind it) as last read, per source */
    "ALTER TABLE sources ADD COLUMN rating REAL;"
    "ALTER TABLE sources ADD COLUMN rating_count INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE sources ADD COLUMN rating_at INTEGER NOT NULL DEFAULT 0;",
};

#define EAR_SCHEMA_VERSION \
    ((int)(sizeof ear_migrations / sizeof ear_migrations[0]))

#endif
