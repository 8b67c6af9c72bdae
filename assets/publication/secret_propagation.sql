-- One step of bound propagation: in each relation Σ coef × cell = 0, each cell lies within what the other cells'
-- bounds leave; counts are whole numbers. Repeated until no bound moves, this follows chains of relations (an
-- objective's measure, its CPO, their cohorts, the breakdowns) that no single relation shows. The relations are
-- those of the territories still changing (`_relations_actives`, the only cells `_bornes` holds).
CREATE OR REPLACE TEMP TABLE _bornes AS
WITH r AS (
    SELECT r.relation, r.cellule, r.coef, least(r.coef * b.lo, r.coef * b.hi) AS mn,
           greatest(r.coef * b.lo, r.coef * b.hi) AS mx
    FROM _relations_actives r JOIN _bornes b USING (cellule)
), a AS (
    SELECT relation, sum(mn) AS smin, sum(mx) AS smax FROM r GROUP BY relation
), derived AS (  -- coef × cell = −Σ others ∈ [−(smax − mx), −(smin − mn)]
    SELECT r.cellule,
           CASE WHEN r.coef > 0 THEN -(a.smax - r.mx) ELSE a.smin - r.mn END AS lo,
           CASE WHEN r.coef > 0 THEN -(a.smin - r.mn) ELSE a.smax - r.mx END AS hi
    FROM r JOIN a USING (relation)
)
SELECT b.cellule, greatest(b.lo, coalesce(max(ceil(d.lo - 1e-6)), b.lo)) AS lo,
       least(b.hi, coalesce(min(floor(d.hi + 1e-6)), b.hi)) AS hi
FROM _bornes b LEFT JOIN derived d USING (cellule)
GROUP BY b.cellule, b.lo, b.hi;
