-- Point-in-time records of what the broker reported: positions and account values, written
-- at every reconciliation and whenever Binder reads them fresh, so the account's history can
-- be read back without the broker and a Redis outage can fall back to the last known state.
create table position_snapshots (
    id bigint generated always as identity constraint position_snapshots_pkey primary key,
    taken_at timestamptz not null default now(),
    account text not null,
    symbol text not null,
    con_id bigint,
    qty numeric not null,
    avg_cost numeric not null
);
create index position_snapshots_taken_at_idx on position_snapshots (taken_at desc);

create table account_snapshots (
    id bigint generated always as identity constraint account_snapshots_pkey primary key,
    taken_at timestamptz not null default now(),
    account text not null,
    tag text not null,
    value text not null,
    currency text not null default ''
);
create index account_snapshots_account_taken_at_idx on account_snapshots (account, taken_at desc);

create table pnl_snapshots (
    id bigint generated always as identity constraint pnl_snapshots_pkey primary key,
    taken_at timestamptz not null default now(),
    account text not null,
    daily numeric,
    unrealized numeric,
    realized numeric
);
create index pnl_snapshots_account_taken_at_idx on pnl_snapshots (account, taken_at desc);
