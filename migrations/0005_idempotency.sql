-- Idempotency keys: a client that retries a state-changing request with the same
-- `Idempotency-Key` gets the first answer again instead of a second effect. Keys are scoped to
-- the caller (a user or an API token), so two callers never see each other's keys.

create table idempotency_keys (
    -- `user:<id>` or `token:<id>`: stable across sessions and token refreshes.
    principal text not null,
    idempotency_key text not null,
    -- sha256 of method, path and query, and body: the same key with another request is refused.
    fingerprint bytea not null,
    -- Which attempt holds the key, so a late finisher cannot overwrite one that took it over.
    owner uuid not null,
    -- null while the first request runs; set with the response when it completes.
    status smallint,
    content_type text,
    response_body bytea,
    created_at timestamptz not null default now(),
    completed_at timestamptz,
    constraint idempotency_keys_pkey primary key (principal, idempotency_key),
    constraint idempotency_keys_key_length check (char_length(idempotency_key) between 1 and 255),
    constraint idempotency_keys_completed check ((status is null) = (completed_at is null))
);

-- The opportunistic clean-up deletes by age.
create index idempotency_keys_created_at_idx on idempotency_keys (created_at);
