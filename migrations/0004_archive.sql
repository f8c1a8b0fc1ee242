-- Archive tables: finished orders older than the retention period move here (with their
-- events and fills) so the hot tables and their indexes stay small. Same columns, no
-- foreign keys: the archive is a record, not a working set.
create table orders_archive (like orders including defaults);
alter table orders_archive add constraint orders_archive_pkey primary key (id);
create table order_events_archive (like order_events including defaults);
alter table order_events_archive add constraint order_events_archive_pkey primary key (seq);
create table fills_archive (like fills including defaults);
alter table fills_archive add constraint fills_archive_pkey primary key (exec_id);
create index orders_archive_created_at_idx on orders_archive (created_at desc);
