select count(*) as n from s.children where amount >= :threshold
