-- A store with 1,000,000 mentions (30 days ending 2026-11-23T17:00:00Z),
-- their verdicts (30% flagged), 100,000 queue items in every state with
-- their events. Loaded by bench/queue.sh into a store earshot created (so
-- the schema is earshot's own, every migration applied).
PRAGMA synchronous = OFF;
PRAGMA journal_mode = WAL;
BEGIN;
CREATE TEMP TABLE cat(k INTEGER PRIMARY KEY, name TEXT);
INSERT INTO cat VALUES (0,'billing'),(1,'delivery'),(2,'support'),
  (3,'defect'),(4,'refund'),(5,'legal'),(6,'pricing'),(7,'account');
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
                        WHERE i < 1000000)
INSERT INTO mentions (id, source, key, guid, url, author, title, text,
                      rating, reach, published, updated, first_seen, lang)
SELECT i, 'source-' || (i % 8), 'k' || i, 'g' || i,
  'https://reviews.example/m/' || i, 'author ' || (i % 5000),
  CASE WHEN i % 3 = 0 THEN NULL ELSE 'Order ' || i || ': not again' END,
  'The invoice was wrong again and support never answered my mails about '
  || 'order ' || i || '. ' || substr('Lorem ipsum dolor sit amet, '
  || 'consectetur adipiscing elit, sed do eiusmod tempor incididunt ut '
  || 'labore et dolore magna aliqua.', 1, 40 + i % 80),
  CASE WHEN i % 4 = 0 THEN 1 + i % 5 END,
  CASE WHEN i % 2 = 0 THEN i % 10000 END,
  1795453200 - 2592000 + i * 2592000 / 1000000 - 120, 0,
  1795453200 - 2592000 + i * 2592000 / 1000000,
  CASE WHEN i % 2 = 0 THEN 'hu' ELSE 'en' END
FROM n;
INSERT INTO verdicts (mention_id, flag, score, severity, categories,
                      matches, brand, team, lang, explain, analyzed_at)
SELECT m.id, (m.id % 10 < 3), CASE WHEN m.id % 10 < 3 THEN 2.5 ELSE 0.2 END,
  CASE WHEN m.id % 10 < 3 THEN 1 + m.id % 4 ELSE 0 END,
  CASE WHEN m.id % 10 < 3 THEN json_array(c.name) ELSE '[]' END,
  CASE WHEN m.id % 10 < 3 THEN json_array(json_object('rule',
    'en.' || c.name || '.x' || (m.id % 5), 'category', c.name, 'field',
    'text', 'start', 4, 'end', 11, 'text', 'invoice', 'weight', 1.0))
  ELSE '[]' END,
  'Brand' || (m.id % 4), NULL, m.lang, NULL, m.first_seen
FROM mentions m JOIN cat c ON c.k = m.id % 8;
-- 100,000 queue items: every flagged mention with id % 30 < 3
INSERT INTO queue (mention_id, state, severity, category, categories,
                   team, owner, brand, source, lang, rating, reach, created,
                   due, first_response, resolved_at, dismiss_reason,
                   updated, happened)
SELECT m.id,
  CASE (m.id / 30) % 10 WHEN 4 THEN 'assigned' WHEN 5 THEN 'responded'
    WHEN 6 THEN 'resolved' WHEN 7 THEN 'resolved' WHEN 8 THEN 'resolved'
    WHEN 9 THEN 'dismissed' ELSE 'new' END,
  1 + m.id % 4, c.name, json_array(c.name), 'team-' || (m.id % 6),
  CASE WHEN (m.id / 30) % 10 IN (4, 5, 6, 7, 8) THEN 'agent-' || (m.id % 20)
  END,
  'Brand' || (m.id % 4), m.source, m.lang, m.rating, m.reach,
  m.first_seen + 30, m.first_seen + 30 + 14400,
  CASE WHEN (m.id / 30) % 10 IN (5, 6, 7, 8) THEN m.first_seen + 1800 END,
  CASE WHEN (m.id / 30) % 10 IN (6, 7, 8) THEN m.first_seen + 5400 END,
  CASE WHEN (m.id / 30) % 10 = 9 THEN 'not-a-complaint' END,
  m.first_seen + 30, m.published
FROM mentions m JOIN cat c ON c.k = m.id % 8
WHERE m.id % 30 < 3 ORDER BY m.id;
INSERT INTO events (at, queue_id, mention_id, actor, kind, from_state,
                    to_state, note)
SELECT created, id, mention_id, 'earshot', 'queued', NULL, 'new',
       'team ' || team FROM queue;
INSERT INTO events (at, queue_id, mention_id, actor, kind, from_state,
                    to_state, note)
SELECT coalesce(resolved_at, first_response, created + 600), id, mention_id,
       owner, CASE state WHEN 'dismissed' THEN 'dismissed'
       WHEN 'assigned' THEN 'assigned' WHEN 'responded' THEN 'responded'
       ELSE 'resolved' END, 'new', state, dismiss_reason
FROM queue WHERE state <> 'new';
UPDATE output_state SET value = (SELECT max(id) FROM queue)
WHERE key = 'incidents.last_queue_id';
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
