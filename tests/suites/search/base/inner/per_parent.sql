select p.id, p.name, count(c.id) as children
from s.parents p
join s.children c on c.parent_id = p.id
group by p.id, p.name
order by p.id
