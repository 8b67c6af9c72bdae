-- Cohort outcomes known at $annee, per CPO (all its cohorts observed at the jalon) and per objective (all its CPO).
-- The jalons measured are those config/mesures.yaml declares (ref.mesures); units from there too.
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
SELECT levels.territoire, 'territoire' AS perimetre, cle, prefixe || m.code || '_' || jalon AS code_mesure, valeur,
       observes::DOUBLE AS effectif  -- the number of people behind the figure: secrecy applies on publication
FROM levels,
LATERAL (VALUES
    ('observes', observes::DOUBLE),
    ('taux_sortie_positive', 100.0 * positives / nullif(observes, 0)),
    ('taux_emploi_durable', 100.0 * durables / nullif(observes, 0)),
    ('taux_perdus_de_vue', 100.0 * perdus / nullif(observes, 0))
) AS m(code, valeur)
WHERE EXISTS (SELECT 1 FROM ref.mesures d WHERE d.territoire = levels.territoire
              AND d.code = prefixe || m.code || '_' || jalon)
