-- Mailroom's PostgreSQL schema, version 1. Applied once, in one transaction, under the
-- migration advisory lock (see schema.rs). Unix times are bigint seconds (login back-off:
-- milliseconds); u64 values are stored as bigint.

-- The mail settings ('mail') and the test history ('tests'), as versioned JSON records.
CREATE TABLE settings (
    key text PRIMARY KEY,
    value jsonb NOT NULL
);

CREATE TABLE audit (
    id bigserial PRIMARY KEY,
    entry jsonb NOT NULL
);

CREATE TABLE admins (
    email text PRIMARY KEY, -- lower case
    record jsonb NOT NULL
);

CREATE TABLE sessions (
    id_hash text PRIMARY KEY,
    email text NOT NULL,
    created_at bigint NOT NULL,
    last_seen bigint NOT NULL
);
CREATE INDEX sessions_by_email ON sessions (lower(email));

CREATE TABLE reset_tokens (
    token_hash text PRIMARY KEY,
    email text NOT NULL,
    expires_at bigint NOT NULL
);

CREATE SEQUENCE api_token_ids;
CREATE TABLE api_tokens (
    hash text PRIMARY KEY,
    id bigint NOT NULL UNIQUE,
    name text NOT NULL UNIQUE,
    created_by text NOT NULL,
    created_at bigint NOT NULL,
    last_used bigint
);

-- Alerts' storm memory, per alert and recipient (lower case).
CREATE TABLE alerts (
    key text NOT NULL,
    recipient text NOT NULL,
    firing boolean NOT NULL,
    mailed_at bigint NOT NULL,
    PRIMARY KEY (key, recipient)
);

CREATE TABLE sign_ins (
    state_hash text PRIMARY KEY,
    admin text NOT NULL,
    app text NOT NULL,
    verifier text NOT NULL, -- sealed
    started_at bigint NOT NULL
);

CREATE TABLE once_secrets (
    kind text NOT NULL,
    key text NOT NULL,
    sealed text NOT NULL,
    expires_at bigint,
    PRIMARY KEY (kind, key)
);

CREATE TABLE login_backoff (
    key text PRIMARY KEY,
    count integer NOT NULL,
    last_ms bigint NOT NULL
);
CREATE INDEX login_backoff_by_last ON login_backoff (last_ms);

-- The outbox's control record (pause, throttle, failing streak, budget): one row, 'outbox'.
CREATE TABLE outbox_control (
    key text PRIMARY KEY,
    record jsonb NOT NULL
);

-- The outbox. `record` is the message as the engine keeps it (attempts included); `state`,
-- `priority` (its rank, 0 first), `not_before` and `created_at` repeat what the queue, the
-- listings and the purge select by, and are written with it. A message being sent has a lease:
-- its worker (`lease_owner`) and until when (`lease_until`).
CREATE SEQUENCE outbox_ids;
CREATE TABLE outbox (
    id bigint PRIMARY KEY,
    state text NOT NULL,
    priority smallint NOT NULL,
    not_before bigint NOT NULL,
    created_at bigint NOT NULL,
    lease_owner bigint,
    lease_until bigint,
    record jsonb NOT NULL
) WITH (
    -- A queue: every row is updated a few times and most are deleted in the end. Room on each
    -- page for HOT updates, and autovacuum early and unthrottled so dead tuples do not pile up.
    fillfactor = 80,
    autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_vacuum_threshold = 1000,
    autovacuum_analyze_scale_factor = 0.02,
    autovacuum_vacuum_cost_delay = 0
);
-- What is due: only waiting messages are in it, in the order claims take them.
CREATE INDEX outbox_due ON outbox (priority, not_before, id) WHERE state IN ('Queued', 'Deferred');
-- Leases a rescue looks at.
CREATE INDEX outbox_leased ON outbox (lease_until) WHERE lease_owner IS NOT NULL;
CREATE INDEX outbox_by_state ON outbox (state, created_at);
CREATE INDEX outbox_by_created ON outbox (created_at);

-- Bodies apart from the records: a claim reads them once, the purge drops them earlier.
CREATE TABLE outbox_bodies (
    id bigint PRIMARY KEY,
    text text NOT NULL,
    html text,
    bytes bigint NOT NULL
) WITH (autovacuum_vacuum_scale_factor = 0.02);

CREATE TABLE outbox_keys (
    key text PRIMARY KEY,
    ids bigint[] NOT NULL,
    at bigint NOT NULL
);

-- Bytes of bodies waiting to be sent, spread over rows so concurrent writers do not queue on
-- one: the total is their sum.
CREATE TABLE outbox_queued (
    shard smallint PRIMARY KEY,
    bytes bigint NOT NULL
);
INSERT INTO outbox_queued SELECT s, 0 FROM generate_series(0, 15) AS s;
