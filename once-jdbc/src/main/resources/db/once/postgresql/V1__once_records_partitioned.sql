-- Once idempotency records for PostgreSQL, partitioned by expiry time: retention drops whole partitions
-- instead of deleting rows. Copy into your migrations (Flyway, Liquibase) or let JdbcIdempotencyStore create it
-- (layout(TableLayout.PARTITIONED).createSchema(true)). Rename the table if you like; tell the store.
--
-- A partition key must be part of every unique index, so the table cannot itself keep one row per id: the
-- primary key is (id, expires_at). once_records_claim keeps ids unique instead: it takes a transaction-scoped
-- advisory lock per id (in sorted order, so two batches never deadlock) and only then looks the id up across
-- all partitions with a fresh snapshot before inserting. That is sound under READ COMMITTED only (a
-- REPEATABLE READ snapshot may predate the row the lock holder committed), so the function refuses other levels.
CREATE TABLE IF NOT EXISTS once_records (
    id          BYTEA    NOT NULL, -- SHA-256 of (tenant, operation, key); the raw key is never stored
    status      CHAR(1)  NOT NULL, -- 'P' in progress, 'C' completed
    fingerprint BYTEA    NOT NULL, -- SHA-256 of the request the key was first used with
    token       BIGINT   NOT NULL, -- fencing token from once_records_token_seq
    nonce       BIGINT   NOT NULL, -- acquisition time (epoch ms)
    lease_until BIGINT   NOT NULL, -- epoch ms by the database clock
    expires_at  BIGINT   NOT NULL, -- epoch ms by the database clock; the record is dead after it; partition key
    outcome     BYTEA,             -- the stored result once completed
    PRIMARY KEY (id, expires_at)
) PARTITION BY RANGE (expires_at);
-- Rows whose expiry has no partition (none created that far ahead yet) land here; the purge deletes its
-- expired rows one by one, as in the plain layout.
CREATE TABLE IF NOT EXISTS once_records_default PARTITION OF once_records DEFAULT;
CREATE INDEX IF NOT EXISTS once_records_default_expires_at ON once_records_default (expires_at);
-- Fencing tokens: strictly growing across every acquisition, even after a record was released or purged.
CREATE SEQUENCE IF NOT EXISTS once_records_token_seq;

-- Claims each id in turn: acquired (a new row, or a dead one taken over; c_takeover when the dead one was a
-- record still in progress whose lease had run out, so its holder's effect may have run), the row as it
-- stands, held by another transaction (wait = false and its lock is taken), or neither (c_status NULL: the
-- row changed under the claim; claim again). completed_outcome NULL writes acquired rows in progress for their lease; otherwise
-- completed with that outcome for their retention (an inbox whose effect commits with the claim).
CREATE OR REPLACE FUNCTION once_records_claim(
    ids BYTEA[], fps BYTEA[], leases BIGINT[], retentions BIGINT[], offset_ms BIGINT, wait BOOLEAN,
    completed_outcome BYTEA)
RETURNS TABLE (c_ord INT, c_token BIGINT, c_status TEXT, c_fingerprint BYTEA, c_lease_until BIGINT,
               c_expires_at BIGINT, c_outcome BYTEA, c_now BIGINT, c_held BOOLEAN, c_takeover BOOLEAN)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    refused BIGINT[] := '{}';
    lock_key BIGINT;
    now_ms BIGINT;
    found_row RECORD;
    acquired BIGINT;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'claims on the partitioned table once_records need READ COMMITTED, but the transaction is %',
            upper(current_setting('transaction_isolation'))
            USING ERRCODE = 'invalid_transaction_state',
                  HINT = 'the per-id lock makes a claim wait for the holder''s commit; only a fresh snapshot then sees its row';
    END IF;
    FOR lock_key IN
        SELECT DISTINCT ('x' || encode(substring(i FROM 1 FOR 8), 'hex'))::BIT(64)::BIGINT AS k
        FROM unnest(ids) AS i ORDER BY k
    LOOP
        IF wait THEN
            PERFORM pg_advisory_xact_lock(lock_key);
        ELSIF NOT pg_try_advisory_xact_lock(lock_key) THEN
            refused := refused || lock_key;
        END IF;
    END LOOP;
    -- After the locks: waiting for one may have taken a while, and leases count from now.
    now_ms := (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT + offset_ms;
    FOR n IN 1 .. coalesce(cardinality(ids), 0) LOOP
        IF ('x' || encode(substring(ids[n] FROM 1 FOR 8), 'hex'))::BIT(64)::BIGINT = ANY (refused) THEN
            RETURN QUERY SELECT n, NULL::BIGINT, NULL::TEXT, NULL::BYTEA, 0::BIGINT, 0::BIGINT, NULL::BYTEA, now_ms, TRUE, FALSE;
            CONTINUE;
        END IF;
        SELECT r.token, r.status, r.fingerprint, r.lease_until, r.expires_at, r.outcome INTO found_row
        FROM once_records r WHERE r.id = ids[n];
        IF NOT FOUND THEN
            INSERT INTO once_records AS r (id, status, fingerprint, token, nonce, lease_until, expires_at, outcome)
            VALUES (ids[n], CASE WHEN completed_outcome IS NULL THEN 'P' ELSE 'C' END, fps[n],
                    nextval('once_records_token_seq'), now_ms,
                    CASE WHEN completed_outcome IS NULL THEN now_ms + leases[n] ELSE now_ms END,
                    CASE WHEN completed_outcome IS NULL THEN now_ms + greatest(leases[n], retentions[n])
                         ELSE now_ms + retentions[n] END,
                    completed_outcome)
            RETURNING r.token INTO acquired;
            RETURN QUERY SELECT n, acquired, NULL::TEXT, NULL::BYTEA, 0::BIGINT, 0::BIGINT, NULL::BYTEA, now_ms, FALSE, FALSE;
        ELSIF found_row.expires_at <= now_ms
              OR (found_row.status = 'P' AND found_row.lease_until <= now_ms AND found_row.fingerprint = fps[n]) THEN
            BEGIN
                -- READ COMMITTED rechecks the condition on the row's latest version, as the plain layout's does.
                UPDATE once_records AS r
                SET status = CASE WHEN completed_outcome IS NULL THEN 'P' ELSE 'C' END, fingerprint = fps[n],
                    token = nextval('once_records_token_seq'), nonce = now_ms,
                    lease_until = CASE WHEN completed_outcome IS NULL THEN now_ms + leases[n] ELSE now_ms END,
                    expires_at = CASE WHEN completed_outcome IS NULL THEN now_ms + greatest(leases[n], retentions[n])
                                      ELSE now_ms + retentions[n] END,
                    outcome = completed_outcome
                WHERE r.id = ids[n] AND r.token = found_row.token
                  AND (r.expires_at <= now_ms
                       OR (r.status = 'P' AND r.lease_until <= now_ms AND r.fingerprint = fps[n]))
                RETURNING r.token INTO acquired;
            EXCEPTION WHEN serialization_failure THEN
                -- A concurrent completion moved the row to another partition: look again.
                acquired := NULL;
            END;
            IF acquired IS NULL THEN
                RETURN QUERY SELECT n, NULL::BIGINT, NULL::TEXT, NULL::BYTEA, 0::BIGINT, 0::BIGINT, NULL::BYTEA, now_ms, FALSE, FALSE;
            ELSE
                -- found_row is the version the UPDATE changed (same token), so it tells what was taken over.
                RETURN QUERY SELECT n, acquired, NULL::TEXT, NULL::BYTEA, 0::BIGINT, 0::BIGINT, NULL::BYTEA, now_ms, FALSE,
                                    found_row.status = 'P' AND found_row.expires_at > now_ms;
            END IF;
        ELSE
            RETURN QUERY SELECT n, NULL::BIGINT, found_row.status::TEXT, found_row.fingerprint, found_row.lease_until,
                                found_row.expires_at, found_row.outcome, now_ms, FALSE, FALSE;
        END IF;
    END LOOP;
END;
$$;

-- Creates the partitions of width_ms (a whole number of seconds) that cover [now_ms, now_ms + ahead_ms) and
-- do not exist yet, each named <table>_p<UTC start, yyyymmddThhmmss>. A range some row in the default
-- partition already falls into is left to the default partition. Waits at most lock_wait_ms (0: not at all)
-- for the default partition's lock, which attaching needs; gives up quietly when it cannot have it, or when
-- another session is adding or dropping partitions of this table. Returns how many partitions it created.
CREATE OR REPLACE FUNCTION once_records_add_partitions(
    now_ms BIGINT, width_ms BIGINT, ahead_ms BIGINT, lock_wait_ms INT)
RETURNS INT
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    parent REGCLASS := 'once_records'::REGCLASS;
    schema_name NAME;
    table_name NAME;
    partition_name TEXT;
    low BIGINT;
    created INT := 0;
    old_lock_timeout TEXT := current_setting('lock_timeout');
BEGIN
    IF width_ms IS NULL OR width_ms < 1000 OR width_ms % 1000 <> 0 THEN
        RAISE EXCEPTION 'width_ms must be a positive whole number of seconds, but was %', width_ms
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT pg_try_advisory_xact_lock(hashtext('dev.once partition maintenance'), hashtext(parent::OID::TEXT)) THEN
        RETURN 0;
    END IF;
    SELECT n.nspname, c.relname INTO schema_name, table_name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = parent;
    low := (now_ms / width_ms) * width_ms;
    WHILE low < now_ms + ahead_ms LOOP
        IF NOT EXISTS (
               SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid,
                   LATERAL regexp_match(pg_get_expr(c.relpartbound, c.oid),
                                        'FROM \(''?(-?[0-9]+)''?\) TO \(''?(-?[0-9]+)''?\)') AS b
               WHERE i.inhparent = parent AND b[1]::BIGINT < low + width_ms AND b[2]::BIGINT > low)
           AND NOT EXISTS (
               SELECT 1 FROM once_records_default d WHERE d.expires_at >= low AND d.expires_at < low + width_ms) THEN
            partition_name := table_name || '_p'
                || to_char(to_timestamp(low / 1000) AT TIME ZONE 'UTC', 'YYYYMMDD"t"HH24MISS');
            BEGIN
                PERFORM set_config('lock_timeout', greatest(lock_wait_ms, 1) || 'ms', TRUE);
                EXECUTE format('LOCK TABLE once_records_default IN ACCESS EXCLUSIVE MODE%s',
                               CASE WHEN lock_wait_ms <= 0 THEN ' NOWAIT' ELSE '' END);
                EXECUTE format('CREATE TABLE %I.%I (LIKE %s INCLUDING DEFAULTS)', schema_name, partition_name, parent);
                EXECUTE format('ALTER TABLE %s ATTACH PARTITION %I.%I FOR VALUES FROM (%s) TO (%s)',
                               parent, schema_name, partition_name, low, low + width_ms);
                PERFORM set_config('lock_timeout', old_lock_timeout, TRUE);
                created := created + 1;
            EXCEPTION WHEN lock_not_available THEN
                RETURN created;
            END;
        END IF;
        low := low + width_ms;
    END LOOP;
    RETURN created;
END;
$$;

-- Drops every partition whose whole range lies before now_ms: each of its rows has expired and has no live
-- lease (a renewal never leaves lease_until past expires_at), so a claim would treat each as absent. Counts a
-- partition's rows before it locks it, so the answer is what was dropped unless a claim took one of them over
-- meanwhile. Waits at most lock_wait_ms (0: not at all) for the exclusive lock that dropping needs, so claims
-- queue behind a drop for no longer; gives up quietly when it cannot have it, or when another session is
-- adding or dropping partitions of this table. Returns how many rows the dropped partitions held.
CREATE OR REPLACE FUNCTION once_records_drop_expired(now_ms BIGINT, lock_wait_ms INT)
RETURNS BIGINT
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    parent REGCLASS := 'once_records'::REGCLASS;
    expired REGCLASS;
    rows_in_partition BIGINT;
    dropped BIGINT := 0;
    old_lock_timeout TEXT := current_setting('lock_timeout');
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('dev.once partition maintenance'), hashtext(parent::OID::TEXT)) THEN
        RETURN 0;
    END IF;
    FOR expired IN
        SELECT c.oid::REGCLASS
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid,
            LATERAL regexp_match(pg_get_expr(c.relpartbound, c.oid),
                                 'FROM \(''?(-?[0-9]+)''?\) TO \(''?(-?[0-9]+)''?\)') AS b
        WHERE i.inhparent = parent AND b[2]::BIGINT <= now_ms
        ORDER BY b[1]::BIGINT
    LOOP
        EXECUTE format('SELECT count(*) FROM %s', expired) INTO rows_in_partition;
        BEGIN
            PERFORM set_config('lock_timeout', greatest(lock_wait_ms, 1) || 'ms', TRUE);
            EXECUTE format('LOCK TABLE ONLY %s, %s IN ACCESS EXCLUSIVE MODE%s', parent, expired,
                           CASE WHEN lock_wait_ms <= 0 THEN ' NOWAIT' ELSE '' END);
            EXECUTE format('DROP TABLE %s', expired);
            PERFORM set_config('lock_timeout', old_lock_timeout, TRUE);
            dropped := dropped + rows_in_partition;
        EXCEPTION WHEN lock_not_available THEN
            RETURN dropped;
        END;
    END LOOP;
    RETURN dropped;
END;
$$;
