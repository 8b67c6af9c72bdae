-- Cohort outcomes known at $annee, per CPO (all its cohorts observed at the jalon) and per objective (all its CPO).
WITH j AS (SELECT * FROM marts.cohortes_jalons WHERE annee = $annee AND dimension = 'ensemble'),
per_cpo AS (
    SELECT territoire, reference_cpo AS cle, jalon, sum(observes) AS observes, sum(sorties_positives) AS positives,
           sum(emploi_durable) AS durables, sum(perdu_de_vue) AS perdus
    FROM j GROUP BY ALL
), per_objectif AS (
    SELECT territoire, code_objectif AS cle, jalon, sum(observes) AS observes, sum(sorties_positives) AS positives,
           sum(emploi_durable) AS durables, sum(perdu_de_vue) AS perdus
    FROM j WHERE code_objectif IS NOT NULL GROUP BY ALL
), levels AS (
    SELECT 'cohorte.' AS prefixe, * FROM per_cpo UNION ALL SELECT 'cohortes_objectif.', * FROM per_objectif
)
SELECT territoire, 'territoire' AS perimetre, cle, prefixe || code || '_' || jalon AS code_mesure, valeur, unite,
       observes::DOUBLE AS effectif  -- the number of people behind the figure: secrecy applies on publication
FROM levels,
LATERAL (VALUES
    ('observes', observes::DOUBLE, 'nombre'),
    ('taux_sortie_positive', 100.0 * positives / nullif(observes, 0), 'pourcentage'),
    ('taux_emploi_durable', 100.0 * durables / nullif(observes, 0), 'pourcentage'),
    ('taux_perdus_de_vue', 100.0 * perdus / nullif(observes, 0), 'pourcentage')
) AS m(code, valeur, unite)
WHERE jalon IN ('6_mois', '12_mois', '24_mois', 'sortie')
