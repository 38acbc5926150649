-- Arbiter's decision ledger on PostgreSQL, schema 2 (meta: format = 'arbiter-ledger/2').
--
-- `arbiter ledger init --postgres` runs this file in one transaction, as a role that may create
-- tables in the database and create roles (the database's owner with CREATEROLE, or a
-- superuser); that role owns the tables and the purge function. Every statement is
-- idempotent: running the file again changes nothing.
--
-- Who may do what is enforced here, by PostgreSQL, whatever client connects:
--   arbiter_writer   SELECT, INSERT on entries and blobs; SELECT on meta. Nothing else.
--   arbiter_auditor  SELECT only.
--   arbiter_purger   SELECT, and EXECUTE on arbiter_purge(), the one way to erase personal data.
-- and, for every role including the owner, triggers refuse any UPDATE, DELETE or TRUNCATE of
-- meta, entries and blobs (but the purge function's own erasure), and check that every new
-- entry links to the head and carries the hash its fields give.
--
-- The advisory lock that totally orders appends: 7021782974087918081 (the eight bytes
-- "arbiter" 0x01 read as a big-endian integer). engine/ledger/postgres.py LOCK_KEY is the same
-- number; every append transaction takes it first, and so does arbiter_purge().

DO $$
BEGIN
    IF pg_catalog.current_setting('server_encoding') <> 'UTF8' THEN
        RAISE EXCEPTION 'arbiter: a ledger database must use the UTF8 encoding, not %',
            pg_catalog.current_setting('server_encoding')
            USING HINT = 'create the database with: CREATE DATABASE name ENCODING ''UTF8'' TEMPLATE template0';
    END IF;
END
$$;

-- Tables: the same logical schema as the SQLite ledger (engine/ledger/ledger.py).

CREATE TABLE IF NOT EXISTS public.meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS public.entries (
    seq BIGINT PRIMARY KEY,
    prev TEXT NOT NULL,
    hash TEXT NOT NULL,
    type TEXT NOT NULL,
    ref TEXT NOT NULL,
    refs TEXT NOT NULL,          -- blob hashes joined by one space
    recorded_at TEXT NOT NULL,   -- ISO 8601, UTC, to the second
    body TEXT NOT NULL,
    actor TEXT,                  -- NULL (with host) only on entries written before schema 2
    host TEXT
);

CREATE INDEX IF NOT EXISTS entries_ref ON public.entries (ref);

CREATE TABLE IF NOT EXISTS public.blobs (
    sha256 TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    content BYTEA,               -- NULL once erased by a purge
    erased_at TEXT
);

INSERT INTO public.meta (key, value) VALUES ('format', 'arbiter-ledger/2') ON CONFLICT (key) DO NOTHING;

-- The chain's recipe (README, "The hash recipe"; engine/ledger/chain.py entry_hash), in SQL.
-- Recipe 2: sha256 of the RFC 8785 JSON of the entry's fields. The keys are written in JCS
-- order; to_json(text) escapes a string as JCS does (", \, the short forms \b \f \n \r \t, and
-- the other control characters as lowercase \u00xx; nothing else), array_to_json writes the
-- refs as a list with no spaces ('[]' when there are none), and seq is an integer.
-- Recipe 1 (actor and host both NULL): sha256 of the fields joined by U+001F.
-- Neither this function nor the trigger functions below set a search_path: pg_catalog is always
-- searched first and every table is named with its schema, so a caller's search_path cannot
-- change what they call (and, per row, setting one would cost a save and restore).
CREATE OR REPLACE FUNCTION public.arbiter_entry_hash(seq BIGINT, prev TEXT, type TEXT, ref TEXT, refs TEXT,
                                                     recorded_at TEXT, body TEXT, actor TEXT, host TEXT)
RETURNS TEXT
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN actor IS NULL AND host IS NULL THEN
            encode(sha256(convert_to(concat_ws(chr(31), prev, seq::text, type, ref, refs, recorded_at, body),
                                     'UTF8')), 'hex')
        ELSE
            encode(sha256(convert_to(
                '{"actor":' || to_json(coalesce(actor, ''))::text
                || ',"body":' || to_json(body)::text
                || ',"host":' || to_json(coalesce(host, ''))::text
                || ',"prev":' || to_json(prev)::text
                || ',"recorded_at":' || to_json(recorded_at)::text
                || ',"ref":' || to_json(ref)::text
                || ',"refs":' || array_to_json(string_to_array(refs, ' '))::text
                || ',"seq":' || seq::text
                || ',"type":' || to_json(type)::text
                || '}', 'UTF8')), 'hex')
    END
$$;

-- Every new entry follows the head: entry 1 links to 64 zeros, entry n to entry n - 1's hash,
-- and its hash is the one its fields give. With seq the primary key, two appends that did not
-- take the advisory lock cannot both follow the same head: the chain cannot fork.
CREATE OR REPLACE FUNCTION public.arbiter_check_entry() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    expected_prev TEXT;
BEGIN
    IF NEW.seq = 1 THEN
        expected_prev := repeat('0', 64);
    ELSE
        SELECT e.hash INTO expected_prev FROM public.entries e WHERE e.seq = NEW.seq - 1;
    END IF;
    IF expected_prev IS NULL OR NEW.prev IS DISTINCT FROM expected_prev THEN
        RAISE EXCEPTION 'arbiter: entry % does not follow the head of the chain', NEW.seq
            USING ERRCODE = 'integrity_constraint_violation',
                  HINT = 'an entry must link to the hash of the entry before it';
    END IF;
    IF NEW.hash IS DISTINCT FROM public.arbiter_entry_hash(NEW.seq, NEW.prev, NEW.type, NEW.ref, NEW.refs,
                                                           NEW.recorded_at, NEW.body, NEW.actor, NEW.host) THEN
        RAISE EXCEPTION 'arbiter: entry %''s hash is not the hash of its fields', NEW.seq
            USING ERRCODE = 'integrity_constraint_violation',
                  HINT = 'README, "The hash recipe", says how an entry is hashed';
    END IF;
    RETURN NEW;
END
$$;

-- A blob is stored under the sha256 of its content; an erased one (content NULL) says when.
CREATE OR REPLACE FUNCTION public.arbiter_check_blob() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.content IS NULL THEN
        IF NEW.erased_at IS NULL THEN
            RAISE EXCEPTION 'arbiter: blob % has no content and no erasure time', NEW.sha256
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    ELSIF NEW.erased_at IS NOT NULL OR NEW.sha256 IS DISTINCT FROM encode(sha256(NEW.content), 'hex') THEN
        RAISE EXCEPTION 'arbiter: blob % is not stored under the sha256 of its content', NEW.sha256
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$;

-- Append-only, whoever asks: no UPDATE, DELETE or TRUNCATE of meta, entries or blobs. The one
-- change let through is the purge function's erasure of a personal-data blob: an UPDATE of
-- blobs that only empties content and sets erased_at, made while arbiter_purge() runs (it sets
-- arbiter.purging for its own transaction) and as the tables' owner (current_user, which only
-- a SECURITY DEFINER function owned by the owner, or the owner, can be: a writer who sets
-- arbiter.purging still is not the owner, and holds no UPDATE privilege anyway).
CREATE OR REPLACE FUNCTION public.arbiter_refuse_change() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'blobs'
       AND current_setting('arbiter.purging', true) = 'on'
       AND current_user = (SELECT pg_get_userbyid(c.relowner) FROM pg_class c WHERE c.oid = TG_RELID) THEN
        IF NEW.sha256 = OLD.sha256 AND NEW.kind = OLD.kind AND OLD.kind = 'personal'
           AND OLD.content IS NOT NULL AND OLD.erased_at IS NULL
           AND NEW.content IS NULL AND NEW.erased_at IS NOT NULL THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'arbiter: the ledger is append-only: % of %.% is refused', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'entries are only ever added; personal data is erased only through arbiter_purge()';
END
$$;

DO $$
DECLARE
    wanted RECORD;
BEGIN
    FOR wanted IN
        SELECT * FROM (VALUES
            ('entries', 'arbiter_check_entry', 'BEFORE INSERT', 'ROW', 'arbiter_check_entry'),
            ('blobs', 'arbiter_check_blob', 'BEFORE INSERT', 'ROW', 'arbiter_check_blob'),
            ('meta', 'arbiter_append_only', 'BEFORE UPDATE OR DELETE', 'ROW', 'arbiter_refuse_change'),
            ('entries', 'arbiter_append_only', 'BEFORE UPDATE OR DELETE', 'ROW', 'arbiter_refuse_change'),
            ('blobs', 'arbiter_append_only', 'BEFORE UPDATE OR DELETE', 'ROW', 'arbiter_refuse_change'),
            ('meta', 'arbiter_no_truncate', 'BEFORE TRUNCATE', 'STATEMENT', 'arbiter_refuse_change'),
            ('entries', 'arbiter_no_truncate', 'BEFORE TRUNCATE', 'STATEMENT', 'arbiter_refuse_change'),
            ('blobs', 'arbiter_no_truncate', 'BEFORE TRUNCATE', 'STATEMENT', 'arbiter_refuse_change')
        ) AS t(table_name, trigger_name, timing, level, function_name)
    LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger tg
                       WHERE tg.tgrelid = pg_catalog.format('public.%I', wanted.table_name)::regclass
                         AND tg.tgname = wanted.trigger_name) THEN
            EXECUTE pg_catalog.format('CREATE TRIGGER %I %s ON public.%I FOR EACH %s EXECUTE FUNCTION public.%I()',
                                      wanted.trigger_name, wanted.timing, wanted.table_name, wanted.level,
                                      wanted.function_name);
        END IF;
    END LOOP;
END
$$;

-- The only way to erase personal data. Under the ledger's advisory lock it empties the listed
-- blobs that are personal data and not yet erased (in the order given, each once) and appends
-- the purge entry that records it: type 'purge', ref '', refs the erased hashes, the caller's
-- recorded_at (also the blobs' erased_at), body, actor and host, hashed by recipe 2. It returns
-- that entry's seq and hash and what it erased, or no row when there was nothing to erase.
CREATE OR REPLACE FUNCTION public.arbiter_purge(shas TEXT[], recorded_at TEXT, body TEXT, actor TEXT, host TEXT)
RETURNS TABLE (seq BIGINT, hash TEXT, erased TEXT[])
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    erasable TEXT[];
    head_seq BIGINT;
    head_hash TEXT;
    new_seq BIGINT;
    new_hash TEXT;
    new_refs TEXT;
BEGIN
    IF arbiter_purge.recorded_at IS NULL
       OR arbiter_purge.recorded_at !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\+00:00$' THEN
        RAISE EXCEPTION 'arbiter: recorded_at must be a UTC time to the second, as 2024-06-30T12:00:00+00:00'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF arbiter_purge.body IS NULL OR coalesce(arbiter_purge.actor, '') = '' OR coalesce(arbiter_purge.host, '') = '' THEN
        RAISE EXCEPTION 'arbiter: a purge needs a body, an actor and a host'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM pg_advisory_xact_lock(7021782974087918081);
    SELECT array_agg(found.sha ORDER BY found.place) INTO erasable
      FROM (SELECT given.sha, min(given.place) AS place
              FROM unnest(arbiter_purge.shas) WITH ORDINALITY AS given(sha, place)
              JOIN public.blobs b ON b.sha256 = given.sha
             WHERE b.kind = 'personal' AND b.content IS NOT NULL
             GROUP BY given.sha) AS found;
    IF erasable IS NULL THEN
        RETURN;
    END IF;
    PERFORM set_config('arbiter.purging', 'on', true);
    UPDATE public.blobs b SET content = NULL, erased_at = arbiter_purge.recorded_at WHERE b.sha256 = ANY (erasable);
    PERFORM set_config('arbiter.purging', '', true);
    SELECT e.seq, e.hash INTO head_seq, head_hash FROM public.entries e ORDER BY e.seq DESC LIMIT 1;
    new_seq := coalesce(head_seq, 0) + 1;
    head_hash := coalesce(head_hash, repeat('0', 64));
    new_refs := array_to_string(erasable, ' ');
    new_hash := public.arbiter_entry_hash(new_seq, head_hash, 'purge', '', new_refs, arbiter_purge.recorded_at,
                                          arbiter_purge.body, arbiter_purge.actor, arbiter_purge.host);
    INSERT INTO public.entries (seq, prev, hash, type, ref, refs, recorded_at, body, actor, host)
    VALUES (new_seq, head_hash, new_hash, 'purge', '', new_refs, arbiter_purge.recorded_at, arbiter_purge.body,
            arbiter_purge.actor, arbiter_purge.host);
    RETURN QUERY SELECT new_seq, new_hash, erasable;
END
$$;

-- The three group roles (NOLOGIN: an administrator grants them to people's login roles).
DO $$
DECLARE
    group_role TEXT;
BEGIN
    FOREACH group_role IN ARRAY ARRAY['arbiter_writer', 'arbiter_auditor', 'arbiter_purger'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = group_role) THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', group_role);
        END IF;
    END LOOP;
END
$$;

REVOKE ALL ON public.meta, public.entries, public.blobs FROM PUBLIC;
REVOKE ALL ON FUNCTION public.arbiter_purge(TEXT[], TEXT, TEXT, TEXT, TEXT) FROM PUBLIC;
-- GRANT adds what is missing and leaves the rest: loading the file again changes nothing.
GRANT USAGE ON SCHEMA public TO arbiter_writer, arbiter_auditor, arbiter_purger;
GRANT SELECT ON public.meta, public.entries, public.blobs TO arbiter_writer, arbiter_auditor, arbiter_purger;
GRANT INSERT ON public.entries, public.blobs TO arbiter_writer;
GRANT EXECUTE ON FUNCTION public.arbiter_purge(TEXT[], TEXT, TEXT, TEXT, TEXT) TO arbiter_purger;
