-- The journal's identity: one row naming this database as a Binder journal, so start-up can
-- tell a Binder database from an unrelated one and logs can say which journal is in use.
create table binder_instance (
    singleton boolean primary key default true constraint binder_instance_singleton check (singleton),
    instance_id uuid not null,
    created_at timestamptz not null default now()
);
