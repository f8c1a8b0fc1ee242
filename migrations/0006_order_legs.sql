-- Bracket and one-cancels-other orders: legs point at their parent order, and every order
-- records its class and IB OCA group.
alter table orders
    add column parent_id uuid constraint orders_parent_id_fkey references orders (id),
    add column order_class text not null default 'simple'
        constraint orders_order_class_check check (order_class in ('simple', 'bracket', 'oco')),
    add column oca_group text;
create index orders_parent_idx on orders (parent_id) where parent_id is not null;
alter table orders_archive
    add column parent_id uuid,
    add column order_class text not null default 'simple',
    add column oca_group text;
