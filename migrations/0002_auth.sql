-- People and permissions: users with argon2id hashes and roles, rotating refresh tokens,
-- API tokens for bots, and the audit log. Constraints are named so errors map to codes.
create table users (
    id bigint generated always as identity constraint users_pkey primary key,
    username text not null constraint users_username_key unique,
    password_hash text not null,
    role text not null constraint users_role_check check (role in ('admin', 'trader', 'viewer')),
    disabled boolean not null default false,
    -- Consecutive failed logins since the last success; drives the delay and the lock.
    failed_logins integer not null default 0 constraint users_failed_logins_check check (failed_logins >= 0),
    last_failed_at timestamptz,
    locked_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint users_username_check check (username ~ '^[a-z0-9][a-z0-9._-]{0,63}$')
);

-- One row per issued refresh token. A login starts a family; each refresh marks the presented
-- token rotated and issues the next one in the same family. Presenting a rotated token again
-- means it was copied: the whole family is revoked.
create table refresh_tokens (
    jti uuid constraint refresh_tokens_pkey primary key,
    family uuid not null,
    user_id bigint not null constraint refresh_tokens_user_id_fkey references users (id) on delete cascade,
    token_hash bytea not null,
    issued_at timestamptz not null default now(),
    expires_at timestamptz not null,
    rotated_at timestamptz,
    revoked_at timestamptz
);
create index refresh_tokens_family_idx on refresh_tokens (family);
create index refresh_tokens_user_id_idx on refresh_tokens (user_id);

-- Long-lived bearer tokens for bots. Only a SHA-256 of the token is stored; the token itself
-- is shown once, at creation.
create table api_tokens (
    id bigint generated always as identity constraint api_tokens_pkey primary key,
    name text not null constraint api_tokens_name_key unique,
    role text not null constraint api_tokens_role_check check (role in ('admin', 'trader', 'viewer')),
    token_hash bytea not null constraint api_tokens_token_hash_key unique,
    created_by text,
    created_at timestamptz not null default now(),
    last_used_at timestamptz,
    revoked_at timestamptz,
    constraint api_tokens_name_check check (length(name) between 1 and 64)
);

-- Who did what, for admins: logins, failures, lockouts, user and token changes.
create table audit_log (
    id bigint generated always as identity constraint audit_log_pkey primary key,
    at timestamptz not null default now(),
    actor text,
    action text not null,
    subject text,
    details jsonb not null default '{}'::jsonb
);
create index audit_log_at_idx on audit_log (at desc, id desc);
