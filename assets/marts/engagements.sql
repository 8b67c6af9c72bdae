-- Partners' commitments of $annee, one row per partner, commitment and perimeter (a QPV, or the territory).
-- A commitment broken down by QPV also gets a territory row: counts and euros add up across QPV, rates do not
-- (a pourcentage is never summed: its territory row exists only if the partner gave one).
CREATE OR REPLACE TEMP VIEW _eng AS
SELECT territoire, partenaire, min(type_partenaire) AS type_partenaire, min(code_objectif) AS code_objectif,
       engagement, indicateur, unite, coalesce(code_qpv, 'territoire') AS perimetre,
       sum(valeur_cible) AS valeur_cible, sum(valeur_realisee) AS valeur_realisee,
       bool_or(valeur_realisee IS NULL) AS non_renseigne, sum(montant_droit_commun) AS montant_droit_commun,
       count(*) AS lignes
FROM staging.engagements WHERE annee = $annee GROUP BY ALL;

DELETE FROM marts.engagements WHERE annee = $annee;
INSERT INTO marts.engagements BY NAME
WITH rows AS (
    SELECT * FROM _eng
    UNION ALL
    SELECT territoire, partenaire, min(type_partenaire), min(code_objectif), engagement, indicateur, unite,
           'territoire', sum(valeur_cible), CASE WHEN bool_or(non_renseigne) THEN NULL ELSE sum(valeur_realisee) END,
           bool_or(non_renseigne), sum(montant_droit_commun), sum(lignes)
    FROM _eng e
    WHERE perimetre <> 'territoire' AND unite IN ('nombre', 'euros')
      AND NOT EXISTS (SELECT 1 FROM _eng t WHERE t.perimetre = 'territoire' AND t.territoire = e.territoire
                      AND t.partenaire = e.partenaire AND t.engagement = e.engagement AND t.indicateur = e.indicateur)
    GROUP BY territoire, partenaire, engagement, indicateur, unite
)
SELECT *, $annee AS annee,
       CASE WHEN valeur_cible > 0 AND valeur_realisee IS NOT NULL THEN 100 * valeur_realisee / valeur_cible END
           AS taux_realisation
FROM rows;
