create schema s;
create table s.parents (id int primary key, name text not null);
create table s.children (
  id int primary key,
  parent_id int not null references s.parents,
  amount int
);
