-- Beneficiaries of the actions of $annee - 1 (complete reports). Shares are computed over the reports that give
-- the breakdown (Σ part / Σ total of those reports), never as an average of shares. Units: config/mesures.yaml.
WITH r AS (SELECT * FROM marts.bilans_actions WHERE annee = $annee AND annee_action = $annee - 1),
granted AS (
    SELECT territoire, count(DISTINCT numero_dossier) AS n FROM staging.programmation
    WHERE annee = $annee - 1 AND statut = 'accorde' GROUP BY territoire
),
t AS (
    SELECT territoire, count(*) AS rapports, sum(beneficiaires_total) AS total,
           sum(beneficiaires_femmes) / nullif(sum(beneficiaires_total) FILTER (WHERE beneficiaires_femmes IS NOT NULL), 0) AS f,
           sum(beneficiaires_residents_qpv) / nullif(sum(beneficiaires_total) FILTER (WHERE beneficiaires_residents_qpv IS NOT NULL), 0) AS q,
           sum(beneficiaires_moins_26_ans) / nullif(sum(beneficiaires_total) FILTER (WHERE beneficiaires_moins_26_ans IS NOT NULL), 0) AS j
    FROM r GROUP BY territoire
)
SELECT t.territoire, 'territoire' AS perimetre, NULL AS cle, code_mesure, valeur FROM t
LEFT JOIN granted g USING (territoire),
LATERAL (VALUES
    ('bilans.rapports_recus', t.rapports::DOUBLE),
    ('bilans.taux_rapports', 100.0 * t.rapports / nullif(g.n, 0)),
    ('bilans.beneficiaires', t.total::DOUBLE),
    ('bilans.part_femmes', 100 * t.f),
    ('bilans.part_residents_qpv', 100 * t.q),
    ('bilans.part_moins_26_ans', 100 * t.j)
) AS m(code_mesure, valeur)
UNION ALL
SELECT territoire, 'territoire', code_objectif, 'bilans.beneficiaires', sum(beneficiaires_total)
FROM r WHERE code_objectif IS NOT NULL GROUP BY ALL
