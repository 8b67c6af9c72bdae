-- One step of bound propagation: in each relation Σ coef × cell = 0, each cell lies within what the other cells'
-- bounds leave; counts are whole numbers. Repeated until no bound moves, this follows chains of relations (an
-- objective's measure, its CPO, their cohorts, the breakdowns) that no single relation shows. The relations are
-- those of the territories still changing (`_relations_actives`, the only cells `_bornes` holds), and of them only
-- those holding a cell whose bounds moved at the step before (`_changees`; every cell at the first step): the
-- others would derive the same bounds again.
CREATE OR REPLACE TEMP TABLE _touchees AS
SELECT DISTINCT relation FROM _relations_actives WHERE cellule IN (SELECT cellule FROM _changees);

CREATE OR REPLACE TEMP TABLE _changees AS
WITH r AS (
    SELECT r.relation, r.cellule, r.coef, least(r.coef * b.lo, r.coef * b.hi) AS mn,
           greatest(r.coef * b.lo, r.coef * b.hi) AS mx
    FROM _relations_actives r JOIN _touchees USING (relation) JOIN _bornes b USING (cellule)
), a AS (
    SELECT relation, sum(mn) AS smin, sum(mx) AS smax FROM r GROUP BY relation
), derived AS (  -- coef × cell = −Σ others ∈ [−(smax − mx), −(smin − mn)]
    SELECT r.cellule,
           CASE WHEN r.coef > 0 THEN -(a.smax - r.mx) ELSE a.smin - r.mn END AS lo,
           CASE WHEN r.coef > 0 THEN -(a.smin - r.mn) ELSE a.smax - r.mx END AS hi
    FROM r JOIN a USING (relation)
), tighter AS (
    SELECT cellule, max(ceil(lo - 1e-6)) AS lo, min(floor(hi + 1e-6)) AS hi FROM derived GROUP BY cellule
)
SELECT b.cellule, greatest(b.lo, t.lo) AS lo, least(b.hi, t.hi) AS hi
FROM tighter t JOIN _bornes b USING (cellule)
WHERE t.lo > b.lo OR t.hi < b.hi;

UPDATE _bornes SET lo = c.lo, hi = c.hi FROM _changees c WHERE _bornes.cellule = c.cellule;
