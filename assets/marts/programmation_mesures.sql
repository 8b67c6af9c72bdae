-- Measures of the programming of year $annee. Money = montant_accorde of granted dossiers, a dossier being granted
-- when one of its financeurs granted it: every measure reads the rows `r` of granted dossiers, so totals, breakdowns
-- by financeur, objective and QPV add up. What was asked is read on every dossier received (`d`), what was paid
-- on the granted ones, counted only where the file says it. Units: config/mesures.yaml.
-- The shares of a dossier that went to the complementary geography (poches de pauvreté…, `rc`) are in no QPV
-- total: they have measures of their own (prog.*_complementaire).
WITH ra AS (  -- rows (dossier × financeur × quartier share) of the granted dossiers; money as DECIMAL so that every
              -- sum is exact whatever order the threads add it in (two runs give the same figures to the last digit)
    SELECT * EXCLUDE (est_accorde) REPLACE (montant_accorde::DECIMAL(38, 6) AS montant_accorde) FROM (
        SELECT *, bool_or(statut = 'accorde') OVER (PARTITION BY territoire, numero_dossier) AS est_accorde
        FROM marts.programmation WHERE annee = $annee)
    WHERE est_accorde
), r AS (
    SELECT * FROM ra WHERE coalesce(geographie, 'qpv') = 'qpv'
), rc AS (
    SELECT * FROM ra WHERE geographie <> 'qpv'
), d AS (  -- every row received: what was asked, whatever became of it
    SELECT territoire, financeur, montant_demande::DECIMAL(38, 6) AS montant_demande
    FROM marts.programmation WHERE annee = $annee AND coalesce(geographie, 'qpv') = 'qpv'
), tx AS (  -- each granted dossier's QPV share once per transversal axis it serves
    SELECT territoire, numero_dossier, unnest(string_split(axes, ';')) AS code_transversal, accorde FROM (
        SELECT territoire, numero_dossier, min(axes_transversaux) AS axes, sum(montant_accorde) AS accorde
        FROM r WHERE axes_transversaux IS NOT NULL GROUP BY ALL)
), g AS (  -- one row per granted dossier
    SELECT territoire, numero_dossier, min(mode_financement) AS mode, min(code_objectif) AS objectif,
           min(axe) AS axe, sum(montant_accorde) AS accorde,
           sum(montant_accorde) FILTER (WHERE financeur = 'etat_bop147') AS bop147
    FROM r GROUP BY ALL
), t AS (
    SELECT territoire,
           count(*) AS dossiers, sum(accorde) AS accorde, sum(bop147) AS bop147,
           count(*) FILTER (WHERE mode = 'CPO') AS dossiers_cpo, sum(accorde) FILTER (WHERE mode = 'CPO') AS accorde_cpo,
           sum(bop147) FILTER (WHERE mode = 'CPO') AS bop147_cpo,
           sum(accorde - bop147) FILTER (WHERE bop147 > 0) AS autres_sur_dossiers_bop147
    FROM g GROUP BY territoire
), natures AS (  -- each nature of credit of the vocabulary, in total (cle NULL) and per financeur
    SELECT t.territoire, NULL AS financeur, v.code AS nature_credit,
           coalesce((SELECT sum(montant_accorde) FROM r WHERE r.territoire = t.territoire
                     AND r.nature_credit = v.code), 0) AS montant
    FROM t CROSS JOIN (SELECT code FROM ref.vocabulaire WHERE domaine = 'natures_credit') v
    UNION ALL
    SELECT territoire, financeur, nature_credit, sum(montant_accorde) FROM r GROUP BY ALL
)
SELECT territoire, 'territoire' AS perimetre, NULL AS cle, code_mesure, valeur FROM t,
LATERAL (VALUES
    ('prog.dossiers_accordes', dossiers::DOUBLE),
    ('prog.montant_accorde', accorde),
    ('prog.montant_bop147', bop147),
    ('prog.effet_levier_bop147', autres_sur_dossiers_bop147 / nullif(bop147, 0)),
    ('prog.part_cpo_dossiers', 100.0 * dossiers_cpo / nullif(dossiers, 0)),
    ('prog.part_cpo_montant', 100 * coalesce(accorde_cpo, 0) / nullif(accorde, 0)),
    ('prog.part_cpo_montant_bop147', 100 * coalesce(bop147_cpo, 0) / nullif(bop147, 0))
) AS m(code_mesure, valeur)
UNION ALL  -- prog.montant_<nature> and prog.part_<nature>, in total and per financeur
SELECT n.territoire, 'territoire', n.financeur, code_mesure, valeur FROM natures n JOIN t USING (territoire),
LATERAL (VALUES
    ('prog.montant_' || n.nature_credit, n.montant),
    ('prog.part_' || n.nature_credit, 100 * n.montant / nullif(t.accorde, 0))
) AS m(code_mesure, valeur)
UNION ALL
SELECT territoire, 'territoire', objectif, 'prog.montant_accorde', sum(accorde)
FROM g WHERE objectif IS NOT NULL GROUP BY ALL
UNION ALL
SELECT territoire, 'territoire', objectif, 'prog.dossiers_accordes', count(*)
FROM g WHERE objectif IS NOT NULL GROUP BY ALL
UNION ALL
SELECT territoire, 'territoire', 'axe ' || axe, 'prog.montant_accorde', sum(accorde) FROM g WHERE axe IS NOT NULL
GROUP BY ALL
UNION ALL  -- per financeur, and per financeur × axe (the COPIL's table; its subtotals are the measures above)
SELECT territoire, 'territoire', financeur, 'prog.montant_financeur', sum(montant_accorde) FROM r GROUP BY ALL
UNION ALL
SELECT territoire, 'territoire', financeur || ' · axe ' || axe, 'prog.montant_financeur', sum(montant_accorde)
FROM r WHERE axe IS NOT NULL GROUP BY ALL
UNION ALL  -- asked, granted, paid: in all and per financeur (paid only where the file gives it)
SELECT territoire, 'territoire', NULL, 'prog.montant_demande', sum(montant_demande) FROM d GROUP BY ALL
UNION ALL
SELECT territoire, 'territoire', financeur, 'prog.montant_demande', sum(montant_demande) FROM d GROUP BY ALL
UNION ALL
SELECT territoire, 'territoire', NULL, 'prog.montant_verse', sum(montant_verse::DECIMAL(38, 6)) FROM r
GROUP BY ALL HAVING count(montant_verse) > 0
UNION ALL
SELECT territoire, 'territoire', financeur, 'prog.montant_verse', sum(montant_verse::DECIMAL(38, 6)) FROM r
GROUP BY ALL HAVING count(montant_verse) > 0
UNION ALL  -- the granted money whose payment the files give: what a rate of payment is computed on
SELECT territoire, 'territoire', NULL, 'prog.accorde_verse_connu', sum(montant_accorde) FILTER (WHERE montant_verse
       IS NOT NULL) FROM r GROUP BY ALL HAVING count(montant_verse) > 0
UNION ALL
SELECT territoire, 'territoire', financeur, 'prog.accorde_verse_connu', sum(montant_accorde) FILTER (WHERE
       montant_verse IS NOT NULL) FROM r GROUP BY ALL HAVING count(montant_verse) > 0
UNION ALL  -- each CPO's granted money of the year, all its financeurs
SELECT territoire, 'territoire', reference_cpo, 'prog.montant_cpo', sum(montant_accorde) FROM r
WHERE mode_financement = 'CPO' AND reference_cpo IS NOT NULL GROUP BY ALL
UNION ALL
SELECT territoire, 'territoire', NULL, 'prog.dossiers_tous_qpv', count(*)
FROM (SELECT DISTINCT territoire, numero_dossier FROM r WHERE qpv_cibles = 'TOUS') GROUP BY ALL
UNION ALL  -- per QPV: its population share of each granted dossier, in all, per dossier, and for dossiers aimed at all
SELECT territoire, code_qpv, NULL, 'prog.montant_accorde', sum(montant_accorde) FROM r GROUP BY ALL
UNION ALL
SELECT territoire, code_qpv, numero_dossier, 'prog.montant_dossier', sum(montant_accorde) FROM r GROUP BY ALL
UNION ALL
SELECT territoire, code_qpv, NULL, 'prog.montant_tous_qpv', sum(montant_accorde) FROM r WHERE qpv_cibles = 'TOUS'
GROUP BY ALL
UNION ALL
SELECT r.territoire, r.code_qpv, NULL, 'prog.montant_par_habitant', sum(r.montant_accorde) / min(q.population)
FROM r JOIN ref.qpv q USING (territoire, code_qpv) GROUP BY ALL
UNION ALL
SELECT r.territoire, 'territoire', NULL, 'prog.montant_par_habitant', sum(r.montant_accorde) / min(p.population_qpv)
FROM r JOIN ref.territoires p USING (territoire) GROUP BY ALL
UNION ALL  -- the complementary geography, each quartier and in all: never inside the QPV figures above
SELECT territoire, 'territoire', code_qpv, 'prog.montant_complementaire', sum(montant_accorde) FROM rc GROUP BY ALL
UNION ALL
SELECT territoire, 'territoire', NULL, 'prog.montant_complementaire', sum(montant_accorde) FROM rc GROUP BY ALL
UNION ALL
SELECT territoire, 'territoire', code_qpv, 'prog.dossiers_complementaire', count(DISTINCT numero_dossier)
FROM rc GROUP BY ALL
UNION ALL
SELECT territoire, 'territoire', NULL, 'prog.dossiers_complementaire', count(DISTINCT numero_dossier)
FROM rc GROUP BY ALL
UNION ALL
SELECT territoire, 'territoire', NULL, 'prog.montant_bop147_complementaire',
       coalesce(sum(montant_accorde) FILTER (WHERE financeur = 'etat_bop147'), 0) FROM rc GROUP BY ALL
UNION ALL
SELECT rc.territoire, 'territoire', rc.code_qpv, 'prog.montant_par_habitant_complementaire',
       sum(rc.montant_accorde) / min(q.population)
FROM rc JOIN ref.quartiers_complementaires q ON q.territoire = rc.territoire AND q.code_quartier = rc.code_qpv
GROUP BY ALL
UNION ALL
SELECT territoire, 'territoire', code_quartier, 'prog.population_complementaire', population
FROM ref.quartiers_complementaires
UNION ALL  -- per transversal axis (a dossier counts once in each axis it serves), and the dossiers serving any
SELECT territoire, 'territoire', code_transversal, 'prog.montant_transversal', sum(accorde) FROM tx GROUP BY ALL
UNION ALL
SELECT territoire, 'territoire', code_transversal, 'prog.dossiers_transversal', count(DISTINCT numero_dossier)
FROM tx GROUP BY ALL
UNION ALL
SELECT territoire, 'territoire', NULL, 'prog.montant_transversal', sum(accorde)
FROM (SELECT DISTINCT territoire, numero_dossier, accorde FROM tx) GROUP BY ALL
UNION ALL
SELECT territoire, 'territoire', NULL, 'prog.dossiers_transversal', count(DISTINCT numero_dossier) FROM tx
GROUP BY ALL
UNION ALL  -- the one population of each perimeter: the contract's (config/territoires, seed 001 III.2), per-capita base
SELECT territoire, code_qpv, NULL, 'prog.population', population FROM ref.qpv
UNION ALL
SELECT territoire, 'territoire', NULL, 'prog.population', population_qpv FROM ref.territoires
