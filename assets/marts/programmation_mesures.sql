-- Measures of the programming of year $annee. Money = montant_accorde of granted dossiers.
WITH d AS (  -- one row per dossier
    SELECT territoire, numero_dossier, min(mode_financement) AS mode, min(code_objectif) AS objectif,
           min(axe) AS axe, bool_or(statut = 'accorde') AS est_accorde,
           sum(montant_accorde) AS accorde,
           sum(montant_accorde) FILTER (WHERE financeur = 'etat_bop147') AS bop147,
           sum(montant_accorde) FILTER (WHERE nature_credit = 'droit_commun') AS droit_commun
    FROM marts.programmation WHERE annee = $annee GROUP BY ALL
), g AS (SELECT * FROM d WHERE est_accorde),  -- a dossier is granted when one of its financeurs granted it
t AS (
    SELECT territoire,
           count(*) AS dossiers, sum(accorde) AS accorde, sum(bop147) AS bop147, sum(droit_commun) AS droit_commun,
           count(*) FILTER (WHERE mode = 'CPO') AS dossiers_cpo, sum(accorde) FILTER (WHERE mode = 'CPO') AS accorde_cpo,
           sum(bop147) FILTER (WHERE mode = 'CPO') AS bop147_cpo,
           sum(accorde - bop147) FILTER (WHERE bop147 > 0) AS autres_sur_dossiers_bop147
    FROM g GROUP BY territoire
)
SELECT territoire, 'territoire' AS perimetre, NULL AS cle, code_mesure, valeur, unite FROM t,
LATERAL (VALUES
    ('prog.dossiers_accordes', dossiers::DOUBLE, 'nombre'),
    ('prog.montant_accorde', accorde, 'euros'),
    ('prog.montant_bop147', bop147, 'euros'),
    ('prog.montant_droit_commun', coalesce(droit_commun, 0), 'euros'),
    ('prog.part_droit_commun', 100 * coalesce(droit_commun, 0) / nullif(accorde, 0), 'pourcentage'),
    ('prog.effet_levier_bop147', autres_sur_dossiers_bop147 / nullif(bop147, 0), 'ratio'),
    ('prog.part_cpo_dossiers', 100.0 * dossiers_cpo / nullif(dossiers, 0), 'pourcentage'),
    ('prog.part_cpo_montant', 100 * coalesce(accorde_cpo, 0) / nullif(accorde, 0), 'pourcentage'),
    ('prog.part_cpo_montant_bop147', 100 * coalesce(bop147_cpo, 0) / nullif(bop147, 0), 'pourcentage')
) AS m(code_mesure, valeur, unite)
UNION ALL
SELECT territoire, 'territoire', objectif, 'prog.montant_accorde', sum(accorde), 'euros'
FROM g GROUP BY ALL
UNION ALL
SELECT territoire, 'territoire', objectif, 'prog.dossiers_accordes', count(*), 'nombre'
FROM g GROUP BY ALL
UNION ALL
SELECT territoire, 'territoire', 'axe ' || axe, 'prog.montant_accorde', sum(accorde), 'euros' FROM g GROUP BY ALL
UNION ALL  -- per QPV: its population share of each granted dossier
SELECT m.territoire, m.code_qpv, NULL, 'prog.montant_accorde', sum(m.montant_accorde), 'euros'
FROM marts.programmation m WHERE m.annee = $annee AND m.statut = 'accorde' GROUP BY ALL
UNION ALL
SELECT m.territoire, m.code_qpv, NULL, 'prog.montant_par_habitant', sum(m.montant_accorde) / min(q.population),
       'euros'
FROM marts.programmation m JOIN ref.qpv q USING (territoire, code_qpv)
WHERE m.annee = $annee AND m.statut = 'accorde' GROUP BY ALL
UNION ALL
SELECT m.territoire, 'territoire', NULL, 'prog.montant_par_habitant', sum(m.montant_accorde) / min(r.population_qpv),
       'euros'
FROM marts.programmation m JOIN ref.territoires r USING (territoire)
WHERE m.annee = $annee AND m.statut = 'accorde' GROUP BY ALL
