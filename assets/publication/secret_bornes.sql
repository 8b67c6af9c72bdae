-- What a reader can know of each cell, as bounds: a shown cell is its value; « < 5 » is 0 to 4; a secondary cell was
-- a visible one, so at least 5 (1e9 stands for no upper bound); a rate's numerator is at most its denominator.
-- Only the cells of the territories still changing (`_actifs`): the others' bounds no longer move.
CREATE OR REPLACE TEMP TABLE _bornes AS
SELECT e.cellule,
       CASE e.etat WHEN 'visible' THEN e.valeur WHEN 'primaire' THEN 0 ELSE p.seuil END::DOUBLE AS lo,
       CASE e.etat WHEN 'visible' THEN e.valeur
                   ELSE least(CASE e.etat WHEN 'primaire' THEN p.seuil - 1 ELSE 1e9 END, coalesce(e.plafond, 1e9))
       END::DOUBLE AS hi
FROM _etat e, _parametres p
WHERE e.territoire IN (SELECT territoire FROM _actifs);
