-- Every count about people that leaves the pipeline for $annee, as one cell each, and every linear relation a
-- reader can use between them (total = Σ parts). Secrecy (secret.sql) is applied to these cells once; the published
-- tables (tables.sql) are then read back from them, so a cell shown in two tables has one state.
-- `_taux` (rate column or measure metric → the count it is the numerator of) is written by secret.py before this.
-- A run scoped to some territories (`en_portee`) audits their cells only: no relation links two territories.

-- The id of a cell, spelled once. Cohort table: one cell per row and count column.
CREATE OR REPLACE TEMP MACRO cellule_jalon(t, cpo, cohorte, jalon, dimension, modalite, colonne) AS
    concat_ws('|', 'J', t, cpo, cohorte, jalon, dimension, modalite, colonne);
-- Measures table: a published count (`cohorte.observes_12_mois` for a CPO), or the count a published rate gives
-- back with its denominator (rate × observed = numerator: not shown, but known to a reader when the rate is).
CREATE OR REPLACE TEMP MACRO cellule_mesure(t, code, perimetre, cle) AS concat_ws('|', 'M', t, code, perimetre, cle);

CREATE OR REPLACE TEMP TABLE _jalons_long AS
SELECT territoire, reference_cpo, code_objectif, cohorte, jalon, dimension, modalite, u.colonne, u.valeur
FROM marts.cohortes_jalons,
LATERAL (VALUES ('attendus', attendus::DOUBLE), ('observes', observes::DOUBLE),
{%- for s in vocabulaire.situations %}
                ('{{ s.code }}', {{ s.code }}::DOUBLE),
{%- endfor %}
                ('sorties_positives', sorties_positives::DOUBLE)) AS u(colonne, valeur)
WHERE annee = $annee AND en_portee(territoire);

-- The cohort measures of referentiel.mesures (assets/marts/cohortes_mesures.sql: `<niveau>.<metrique>_<jalon>`,
-- niveau `cohorte` per CPO, `cohortes_objectif` per objective), with what each one counts.
CREATE OR REPLACE TEMP TABLE _mesures_cohorte AS
SELECT m.territoire, m.code_mesure, m.perimetre, m.cle, m.valeur, m.effectif, j.code AS jalon,
       split_part(m.code_mesure, '.', 1) AS niveau,
       m.code_mesure[length(split_part(m.code_mesure, '.', 1)) + 2 : length(m.code_mesure) - length(j.code) - 1]
           AS metrique
FROM referentiel.mesures m
JOIN ref.vocabulaire j ON j.domaine = 'jalons' AND suffix(m.code_mesure, '_' || j.code)
WHERE m.annee = $annee AND m.effectif IS NOT NULL AND en_portee(m.territoire);

CREATE OR REPLACE TEMP TABLE _mesures_comptes AS  -- one count cell per measure: itself, or its rate's numerator
SELECT mc.*, coalesce(t.numerateur, mc.metrique) AS colonne, t.numerateur IS NOT NULL AS est_taux,
       cellule_mesure(mc.territoire, mc.niveau || '.' || coalesce(t.numerateur, mc.metrique) || '_' || mc.jalon,
                      mc.perimetre, mc.cle) AS cellule,
       CASE WHEN t.numerateur IS NULL THEN mc.valeur ELSE round(mc.valeur * mc.effectif / 100) END AS compte
FROM _mesures_cohorte mc LEFT JOIN _taux t ON t.taux = mc.metrique;

-- `plafond`: an upper bound a reader knows besides the relations (a rate's numerator is at most its denominator).
-- `territoire`: no relation links two territories' cells, so secrecy can work on the territories still changing.
CREATE OR REPLACE TEMP TABLE _cellules AS
SELECT cellule_jalon(territoire, reference_cpo, cohorte, jalon, dimension, modalite, colonne) AS cellule, valeur,
       NULL::DOUBLE AS plafond, territoire
FROM _jalons_long
UNION ALL
SELECT cellule, any_value(compte), min(CASE WHEN est_taux THEN effectif END), any_value(territoire)
FROM _mesures_comptes GROUP BY cellule;

-- Relations: coefficient -1 for the total, +1 for each part.
CREATE OR REPLACE TEMP TABLE _relations AS
WITH rows AS (SELECT DISTINCT territoire, reference_cpo, cohorte, jalon, dimension, modalite FROM _jalons_long),
row_relations AS (  -- in each row: observed = Σ situations ; positive exits = Σ positive situations
    SELECT concat_ws('|', 'ligne', r.territoire, r.reference_cpo, r.cohorte, r.jalon, r.dimension, r.modalite,
                     t.total) AS relation, t.total, t.partie, r.*
    FROM rows r,
    (SELECT 'observes' AS total, code AS partie FROM ref.vocabulaire WHERE domaine = 'situations'
     UNION ALL SELECT 'sorties_positives', code FROM ref.vocabulaire WHERE domaine = 'situations' AND positive) t
)
SELECT relation, cellule_jalon(territoire, reference_cpo, cohorte, jalon, dimension, modalite, partie) AS cellule,
       1 AS coef FROM row_relations
UNION ALL
SELECT DISTINCT relation, cellule_jalon(territoire, reference_cpo, cohorte, jalon, dimension, modalite, total), -1
FROM row_relations
UNION ALL
-- each breakdown (sex, age, residence) adds up to the whole cohort, column by column
SELECT concat_ws('|', 'ventilation', territoire, reference_cpo, cohorte, jalon, dimension, colonne),
       cellule_jalon(territoire, reference_cpo, cohorte, jalon, dimension, modalite, colonne), 1
FROM _jalons_long WHERE dimension <> 'ensemble'
UNION ALL
SELECT concat_ws('|', 'ventilation', e.territoire, e.reference_cpo, e.cohorte, e.jalon, d.dimension, e.colonne),
       cellule_jalon(e.territoire, e.reference_cpo, e.cohorte, e.jalon, 'ensemble', 'ensemble', e.colonne), -1
FROM _jalons_long e
JOIN (SELECT DISTINCT territoire, reference_cpo, cohorte, jalon, dimension FROM _jalons_long
      WHERE dimension <> 'ensemble') d USING (territoire, reference_cpo, cohorte, jalon)
WHERE e.dimension = 'ensemble'
UNION ALL
-- a CPO's measure adds up its cohorts (the same people as the cohort table's rows)
SELECT DISTINCT concat_ws('|', 'cpo', m.cellule), m.cellule, -1
FROM _mesures_comptes m WHERE m.niveau = 'cohorte'
UNION ALL
SELECT DISTINCT concat_ws('|', 'cpo', m.cellule),
       cellule_jalon(j.territoire, j.reference_cpo, j.cohorte, j.jalon, 'ensemble', 'ensemble', j.colonne), 1
FROM _mesures_comptes m
JOIN _jalons_long j ON j.territoire = m.territoire AND j.reference_cpo = m.cle AND j.jalon = m.jalon
                   AND j.colonne = m.colonne AND j.dimension = 'ensemble'
WHERE m.niveau = 'cohorte'
UNION ALL
-- an objective's measure adds up its CPO's (which CPO serves which objective is in the cohort table)
SELECT DISTINCT concat_ws('|', 'objectif', m.cellule), m.cellule, -1
FROM _mesures_comptes m WHERE m.niveau = 'cohortes_objectif'
UNION ALL
SELECT DISTINCT concat_ws('|', 'objectif', m.cellule), c.cellule, 1
FROM _mesures_comptes m
JOIN (SELECT DISTINCT territoire, reference_cpo, code_objectif FROM _jalons_long) o
  ON o.territoire = m.territoire AND o.code_objectif = m.cle
JOIN _mesures_comptes c ON c.niveau = 'cohorte' AND c.territoire = m.territoire AND c.cle = o.reference_cpo
                       AND c.jalon = m.jalon AND c.colonne = m.colonne
WHERE m.niveau = 'cohortes_objectif';
