-- TFPB of $annee: abatement, valorised counterpart and coverage, for the territory, each QPV and each landlord.
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
SELECT territoire, perimetre, cle, code_mesure, valeur, unite FROM levels,
LATERAL (VALUES
    ('tfpb.logements', logements::DOUBLE, 'nombre'),
    ('tfpb.abattement', abattement, 'euros'),
    ('tfpb.valorise', valorise, 'euros'),
    ('tfpb.taux_couverture', 100 * valorise / nullif(abattement, 0), 'pourcentage'),
    ('tfpb.abattement_par_logement', abattement / nullif(logements, 0), 'euros')
) AS m(code_mesure, valeur, unite)
UNION ALL
SELECT territoire, 'territoire', NULL, 'tfpb.alertes_couverture', count(*) FILTER (WHERE alerte_couverture), 'nombre'
FROM t GROUP BY territoire
