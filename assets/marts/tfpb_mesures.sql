-- TFPB of $annee: abatement, valorised counterpart and coverage, for the territory, each QPV and each landlord,
-- and per dwelling; the counterpart per axis of the national framework, in all and per landlord, with the number of
-- actions. Units: config/mesures.yaml.
WITH t AS (SELECT * FROM marts.tfpb WHERE annee = $annee),
levels AS (
    SELECT territoire, 'territoire' AS perimetre, NULL AS cle, sum(nb_logements) AS logements,
           sum(montant_abattement) AS abattement, sum(montant_valorise) AS valorise FROM t GROUP BY territoire
    UNION ALL
    SELECT territoire, code_qpv, NULL, sum(nb_logements), sum(montant_abattement), sum(montant_valorise)
    FROM t GROUP BY ALL
    UNION ALL
    SELECT territoire, 'territoire', bailleur, sum(nb_logements), sum(montant_abattement), sum(montant_valorise)
    FROM t GROUP BY ALL
)
SELECT territoire, perimetre, cle, code_mesure, valeur FROM levels,
LATERAL (VALUES
    ('tfpb.logements', logements::DOUBLE),
    ('tfpb.abattement', abattement),
    ('tfpb.valorise', valorise),
    ('tfpb.taux_couverture', 100 * valorise / nullif(abattement, 0)),
    ('tfpb.abattement_par_logement', abattement / nullif(logements, 0)),
    ('tfpb.valorise_par_logement', valorise / nullif(logements, 0))
) AS m(code_mesure, valeur)
UNION ALL
SELECT territoire, 'territoire', NULL, 'tfpb.alertes_couverture', count(*) FILTER (WHERE alerte_couverture)
FROM t GROUP BY territoire
UNION ALL
SELECT territoire, 'territoire', axe, 'tfpb.valorise_axe', sum(montant_valorise)
FROM marts.tfpb_axes WHERE annee = $annee GROUP BY ALL
UNION ALL  -- per landlord and axis: the COPIL's table (its subtotals are tfpb.valorise per landlord, valorise_axe)
SELECT territoire, 'territoire', bailleur || ' · ' || axe, 'tfpb.valorise_bailleur_axe', sum(montant_valorise)
FROM marts.tfpb_axes WHERE annee = $annee GROUP BY ALL
UNION ALL
SELECT territoire, 'territoire', NULL, 'tfpb.actions', sum(actions) FROM marts.tfpb_axes WHERE annee = $annee
GROUP BY ALL
UNION ALL
SELECT territoire, 'territoire', bailleur, 'tfpb.actions', sum(actions) FROM marts.tfpb_axes WHERE annee = $annee
GROUP BY ALL
