analyze s.parents, s.children;
