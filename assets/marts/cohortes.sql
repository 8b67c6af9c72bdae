-- CPO cohorts as known at the end of $annee. A cohort = the people who entered one CPO in one year. Cohorts are
-- rebuilt from every inbox up to $annee (a 2024 entrant's 12-month observation arrives in the 2025 inbox); a
-- person observed twice at the same jalon keeps the latest observation. Pseudonymised identifiers only.
CREATE OR REPLACE TEMP VIEW _obs AS
SELECT * FROM staging.cohortes WHERE annee_boite <= $annee
QUALIFY row_number() OVER (PARTITION BY territoire, reference_cpo, identifiant_beneficiaire, jalon
                           ORDER BY annee_boite DESC, date_observation DESC, fichier DESC, ligne DESC) = 1;

CREATE OR REPLACE TEMP VIEW _personnes AS  -- entry date and profile of each person in each CPO
SELECT territoire, reference_cpo, identifiant_beneficiaire,
       coalesce(min(date_entree) FILTER (WHERE jalon = 'entree'), min(date_entree)) AS date_entree,
       arg_max(sexe, date_observation) AS sexe, arg_max(annee_naissance, date_observation) AS annee_naissance,
       arg_max(code_qpv, date_observation) AS code_qpv
FROM _obs GROUP BY ALL;

DELETE FROM marts.cohortes_parcours WHERE annee = $annee;
INSERT INTO marts.cohortes_parcours BY NAME
SELECT o.territoire, $annee AS annee, o.reference_cpo, cpo.code_objectif, year(p.date_entree) AS cohorte,
       o.identifiant_beneficiaire, p.date_entree, coalesce(p.sexe, 'NR') AS sexe,
       CASE WHEN p.annee_naissance IS NULL THEN 'non renseigné'
            WHEN year(p.date_entree) - p.annee_naissance < 26 THEN 'moins de 26 ans'
            WHEN year(p.date_entree) - p.annee_naissance < 50 THEN '26 à 49 ans' ELSE '50 ans et plus' END
           AS tranche_age,
       CASE WHEN p.code_qpv IS NULL THEN 'non renseigné' WHEN p.code_qpv = 'HORS_QPV' THEN 'hors QPV'
            ELSE 'résident QPV' END AS residence,
       o.jalon, j.rang AS rang_jalon,
       o.date_observation, o.situation, o.fichier, o.ligne
FROM _obs o JOIN _personnes p USING (territoire, reference_cpo, identifiant_beneficiaire)
JOIN ref.vocabulaire j ON j.domaine = 'jalons' AND j.code = o.jalon
LEFT JOIN (SELECT territoire, reference_cpo, min(code_objectif) AS code_objectif FROM staging.programmation
           WHERE reference_cpo IS NOT NULL GROUP BY ALL) cpo USING (territoire, reference_cpo);

DELETE FROM marts.cohortes_jalons WHERE annee = $annee;
INSERT INTO marts.cohortes_jalons BY NAME
WITH members AS (  -- one row per person and cohort, with each breakdown as (dimension, modalite)
    SELECT DISTINCT territoire, reference_cpo, code_objectif, cohorte, identifiant_beneficiaire, date_entree, d.dimension,
           d.modalite
    FROM marts.cohortes_parcours,
         LATERAL (VALUES ('ensemble', 'ensemble'), ('sexe', sexe), ('tranche_age', tranche_age),
                         ('residence', residence)) AS d(dimension, modalite)
    WHERE annee = $annee
), jalons AS (  -- the jalons in order, with their delay after entry (config/vocabulaire.yaml)
    SELECT code AS jalon, rang AS rang_jalon, mois FROM ref.vocabulaire WHERE domaine = 'jalons'
), expected AS (  -- people whose jalon was due by the end of the year (`sortie` has no due date)
    SELECT m.*, j.jalon, j.rang_jalon,
           j.mois IS NOT NULL AND m.date_entree + to_months(j.mois) <= make_date($annee, 12, 31) AS attendu
    FROM members m CROSS JOIN jalons j
)
SELECT e.territoire, $annee AS annee, e.reference_cpo, min(e.code_objectif) AS code_objectif, e.cohorte,
       e.jalon, e.rang_jalon, e.dimension, e.modalite,
       count(*) FILTER (WHERE e.attendu) AS attendus,
       count(p.situation) AS observes,
{%- for s in vocabulaire.situations %}
       count(*) FILTER (WHERE p.situation = '{{ s.code }}') AS {{ s.code }},
{%- endfor %}
       count(*) FILTER (WHERE p.situation IN (SELECT code FROM ref.vocabulaire
                                              WHERE domaine = 'situations' AND positive)) AS sorties_positives,
       100.0 * sorties_positives / nullif(observes, 0) AS taux_sortie_positive,
       100.0 * emploi_durable / nullif(observes, 0) AS taux_emploi_durable,
       100.0 * perdu_de_vue / nullif(observes, 0) AS taux_perdus_de_vue
FROM expected e
LEFT JOIN marts.cohortes_parcours p
       ON p.annee = $annee AND p.territoire = e.territoire AND p.reference_cpo = e.reference_cpo
      AND p.identifiant_beneficiaire = e.identifiant_beneficiaire AND p.jalon = e.jalon
GROUP BY e.territoire, e.reference_cpo, e.cohorte, e.jalon, e.rang_jalon, e.dimension, e.modalite
HAVING count(p.situation) > 0 OR count(*) FILTER (WHERE e.attendu) > 0;

DELETE FROM marts.cohortes_transitions WHERE annee = $annee;
INSERT INTO marts.cohortes_transitions BY NAME
SELECT a.territoire, $annee AS annee, a.reference_cpo, a.cohorte, a.jalon AS jalon_depart, b.jalon AS jalon_arrivee,
       a.situation AS situation_depart, b.situation AS situation_arrivee, count(*) AS effectif
FROM marts.cohortes_parcours a
JOIN marts.cohortes_parcours b
  ON b.annee = a.annee AND b.territoire = a.territoire AND b.reference_cpo = a.reference_cpo
 AND b.identifiant_beneficiaire = a.identifiant_beneficiaire AND b.rang_jalon = a.rang_jalon + 1
 AND a.jalon <> 'sortie' AND b.jalon <> 'sortie'  -- the exit is not a step of the jalon series
WHERE a.annee = $annee
GROUP BY ALL;
