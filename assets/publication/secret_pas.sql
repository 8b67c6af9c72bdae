-- Secondary suppression, one step: every hidden cell that the bounds (secret_bornes.sql) or the exact check
-- (audit.py, `_coincees`) pin to one whole value gets one more cell hidden: the nearest visible cell (in a relation
-- it belongs to, else in a relation of a hidden cell of those, and so on, six relations away at most), the cell that
-- totals the fewest others first (a breakdown's cell before the whole cohort's), the smallest first. Within the
-- territories still changing (`_relations_actives`; `_totaux`: how many cells each total adds up, computed once).
-- Searched level by level (secret.py runs the second and third statements once per level): a pinned cell stops at
-- the first level holding a visible cell, and the others go on from the hidden cells they reached.

-- level 0: the pinned cells, each the origin of its own search
CREATE OR REPLACE TEMP TABLE _front AS
SELECT cellule AS origine, cellule FROM (
    SELECT b.cellule FROM _bornes b JOIN _etat e USING (cellule) WHERE e.etat <> 'visible' AND b.hi - b.lo < 1
    UNION SELECT cellule FROM _coincees
);
CREATE OR REPLACE TEMP TABLE _choix (origine VARCHAR, cellule VARCHAR);

-- one level further: the cells sharing a relation with the front
CREATE OR REPLACE TEMP TABLE _voisins AS
SELECT DISTINCT f.origine, v.cellule
FROM _front f
JOIN _relations_actives r ON r.cellule = f.cellule
JOIN _relations_actives v ON v.relation = r.relation;

-- origins that reach a visible cell at this level choose one; the others go on from the hidden cells reached
INSERT INTO _choix
SELECT n.origine, arg_min(n.cellule, (coalesce(t.n, 0), e.valeur, n.cellule))
FROM _voisins n
JOIN _etat e ON e.cellule = n.cellule AND e.etat = 'visible'
LEFT JOIN _totaux t ON t.cellule = n.cellule
GROUP BY n.origine;
CREATE OR REPLACE TEMP TABLE _front AS
SELECT DISTINCT n.origine, n.cellule
FROM _voisins n
JOIN _etat h ON h.cellule = n.cellule AND h.etat <> 'visible'
WHERE n.origine NOT IN (SELECT origine FROM _choix);

-- the chosen cells are hidden
UPDATE _etat SET etat = 'secondaire' WHERE cellule IN (SELECT cellule FROM _choix);
