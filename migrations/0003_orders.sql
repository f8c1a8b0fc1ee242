-- The order journal: orders (written before anything reaches the broker), their events with a
-- global gap-free sequence, fills (exactly once per execution), and the broker order id high
-- water mark that keeps ids unique across reconnects and restarts.

create table orders (
    id uuid primary key,
    client_order_id text not null,
    account text not null,
    symbol text not null,
    con_id bigint,
    side text not null constraint orders_side_check check (side in ('buy', 'sell')),
    qty numeric not null constraint orders_qty_check check (qty > 0),
    order_type text not null,
    limit_price numeric,
    stop_price numeric,
    trail_amount numeric,
    trail_percent numeric,
    time_in_force text not null,
    outside_rth boolean not null default false,
    status text not null,
    filled_qty numeric not null default 0,
    filled_avg_price numeric,
    broker_client_id integer not null,
    broker_order_id integer not null,
    perm_id bigint,
    external boolean not null default false,
    reject_reason text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    submitted_at timestamptz,
    filled_at timestamptz,
    canceled_at timestamptz,
    constraint orders_client_order_id_key unique (account, client_order_id),
    constraint orders_broker_order_id_key unique (broker_client_id, broker_order_id)
);

create unique index orders_perm_id_key on orders (perm_id) where perm_id is not null and perm_id <> 0;
create index orders_created_at_idx on orders (created_at desc, id);
create index orders_symbol_created_at_idx on orders (symbol, created_at desc);
create index orders_open_idx on orders (status)
    where status not in ('filled', 'canceled', 'expired', 'rejected', 'replaced', 'denied');

-- One row: the last event sequence number handed out. Taking it with `update … returning`
-- inside the event's transaction makes the sequence gap-free (a rolled back transaction
-- releases its number).
create table event_sequence (
    singleton boolean primary key default true constraint event_sequence_singleton check (singleton),
    last_seq bigint not null
);
insert into event_sequence (last_seq) values (0);

create table order_events (
    seq bigint primary key,
    order_id uuid not null references orders (id),
    kind text not null,
    status text not null,
    detail jsonb not null default '{}'::jsonb,
    created_at timestamptz not null default now()
);
create index order_events_order_idx on order_events (order_id, seq);

create table fills (
    exec_id text primary key,
    order_id uuid references orders (id),
    account text not null,
    symbol text not null,
    con_id bigint,
    side text not null,
    qty numeric not null,
    price numeric not null,
    commission numeric,
    realized_pnl numeric,
    executed_at timestamptz not null,
    recorded_at timestamptz not null default now()
);
create index fills_order_idx on fills (order_id);
create index fills_executed_at_idx on fills (executed_at desc);

-- The next broker order id Binder may use. Raised to the gateway's NextValidId at every
-- connect and advanced atomically for every order, so no id is ever handed out twice.
create table broker_order_ids (
    singleton boolean primary key default true constraint broker_order_ids_singleton check (singleton),
    next_id integer not null
);
insert into broker_order_ids (next_id) values (1);
