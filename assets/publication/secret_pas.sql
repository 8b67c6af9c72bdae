-- Secondary suppression, one step: every hidden cell that the bounds (secret_bornes.sql) or the exact check
-- (audit.py, `_coincees`) pin to one whole value gets one more cell hidden: the nearest visible cell (in a relation
-- it belongs to, else in a relation of a hidden cell of those, and so on), the cell that totals the fewest others
-- first (a breakdown's cell before the whole cohort's), the smallest first.
UPDATE _etat SET etat = 'secondaire'
WHERE cellule IN (
    WITH RECURSIVE pinned AS (
        SELECT b.cellule FROM _bornes b JOIN _etat e USING (cellule) WHERE e.etat <> 'visible' AND b.hi - b.lo < 1
        UNION SELECT cellule FROM _coincees
    ), reach(origine, cellule, niveau) AS (
        SELECT cellule, cellule, 0 FROM pinned
        UNION
        SELECT reach.origine, v.cellule, reach.niveau + 1
        FROM reach
        JOIN _etat h ON h.cellule = reach.cellule AND h.etat <> 'visible'
        JOIN _relations r ON r.cellule = reach.cellule
        JOIN _relations v ON v.relation = r.relation
        WHERE reach.niveau < 6
    ), totals AS (SELECT cellule, count(*) AS n FROM _relations WHERE coef < 0 GROUP BY cellule)
    SELECT arg_min(reach.cellule, (reach.niveau, coalesce(t.n, 0), e.valeur, reach.cellule))
    FROM reach
    JOIN _etat e ON e.cellule = reach.cellule AND e.etat = 'visible'
    LEFT JOIN totals t ON t.cellule = reach.cellule
    GROUP BY reach.origine
);
