select count(1) as n from s.children where :threshold < amount
