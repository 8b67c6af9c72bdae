-- Partners' commitments of $annee, one row per commitment and perimeter (a QPV, or the territory).
-- A line is matched to the referential by codes (ref.engagements_partenaires / _indicateurs, from the `partenaires`
-- of config/referentiels/<territoire>.yaml): the partner's name and the indicator's wording, normalised once in
-- staging (cle_partenaire, cle_indicateur), against each code's own wording and aliases. A line the referential does
-- not declare keeps its normalised texts as codes (declare = false): shown in the bilan, cited by no indicator.
CREATE OR REPLACE TEMP VIEW _src AS
SELECT s.*, coalesce(p.code_partenaire, s.cle_partenaire) AS code_partenaire,
       coalesce(i.code_indicateur, s.cle_indicateur) AS code_indicateur, i.code_indicateur IS NOT NULL AS declare,
       coalesce(p.nom_partenaire, s.partenaire) AS nom_partenaire,
       coalesce(i.libelle_indicateur, s.indicateur) AS libelle_indicateur
FROM staging.engagements s
LEFT JOIN ref.engagements_partenaires p ON p.territoire = s.territoire AND p.cle_partenaire = s.cle_partenaire
LEFT JOIN ref.engagements_indicateurs i ON i.territoire = s.territoire AND i.code_partenaire = p.code_partenaire
     AND i.cle_indicateur = s.cle_indicateur
WHERE s.annee = $annee;

CREATE OR REPLACE TEMP VIEW _eng AS
SELECT territoire, code_partenaire, code_indicateur, bool_and(declare) AS declare, min(nom_partenaire) AS partenaire,
       min(type_partenaire) AS type_partenaire, min(code_objectif) AS code_objectif, min(engagement) AS engagement,
       min(libelle_indicateur) AS indicateur, min(unite) AS unite, coalesce(code_qpv, 'territoire') AS perimetre,
       sum(valeur_cible) AS valeur_cible, sum(valeur_realisee) AS valeur_realisee,
       count(valeur_realisee) = 0 AS non_renseigne, sum(montant_droit_commun) AS montant_droit_commun,
       count(*) AS lignes
FROM _src GROUP BY territoire, code_partenaire, code_indicateur, coalesce(code_qpv, 'territoire');

-- A commitment given QPV by QPV without a territory line gets one. Counts and euros add up: the territory value is
-- the sum of the QPV that reported (partiel when some did not), and its rate compares it with the target of those
-- same QPV. A pourcentage never adds up: no territory row unless the partner gave one; its QPV values stay.
DELETE FROM marts.engagements WHERE annee = $annee;
INSERT INTO marts.engagements BY NAME
WITH own AS (
    SELECT *, 'ligne' AS agregat, NULL::INTEGER AS qpv_engages, NULL::INTEGER AS qpv_renseignes,
           valeur_cible AS cible_comparable FROM _eng
),
from_qpv AS (
    SELECT territoire, code_partenaire, code_indicateur, bool_and(declare) AS declare, min(partenaire) AS partenaire,
           min(type_partenaire) AS type_partenaire, min(code_objectif) AS code_objectif,
           min(engagement) AS engagement, min(indicateur) AS indicateur, min(unite) AS unite,
           'territoire' AS perimetre,
           sum(valeur_cible) AS valeur_cible, sum(valeur_realisee) AS valeur_realisee,
           count(valeur_realisee) = 0 AS non_renseigne, sum(montant_droit_commun) AS montant_droit_commun,
           sum(lignes) AS lignes, 'somme' AS agregat,
           count(*)::INTEGER AS qpv_engages, count(valeur_realisee)::INTEGER AS qpv_renseignes,
           sum(valeur_cible) FILTER (WHERE valeur_realisee IS NOT NULL) AS cible_comparable
    FROM _eng e
    WHERE perimetre <> 'territoire' AND unite IN ('nombre', 'euros')
      AND NOT EXISTS (SELECT 1 FROM _eng t WHERE t.perimetre = 'territoire' AND t.territoire = e.territoire
                      AND t.code_partenaire = e.code_partenaire AND t.code_indicateur = e.code_indicateur)
    GROUP BY territoire, code_partenaire, code_indicateur
),
rows AS (SELECT * FROM own UNION ALL BY NAME SELECT * FROM from_qpv)
SELECT * EXCLUDE (cible_comparable), $annee AS annee, code_partenaire || '.' || code_indicateur AS cle,
       CASE WHEN cible_comparable > 0 AND valeur_realisee IS NOT NULL THEN 100 * valeur_realisee / cible_comparable END
           AS taux_realisation,
       agregat = 'somme' AND qpv_renseignes < qpv_engages AND qpv_renseignes > 0 AS partiel
FROM rows;
