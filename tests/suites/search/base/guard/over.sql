select count(*) as n from s.children where amount > :threshold and :threshold >= 0
