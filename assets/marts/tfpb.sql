-- TFPB of $annee per landlord and QPV. The abatement is a per-QPV amount from `patrimoine`: it is joined to the
-- actions aggregated per landlord and QPV, never repeated per action row. Landlords are matched on `cle_bailleur`,
-- the normalised name computed once in staging (« Bailleur-A », « BAILLEUR A » are one landlord).
CREATE OR REPLACE TEMP VIEW _actions AS
SELECT territoire, cle_bailleur, code_qpv, axe, count(*) AS actions,
       sum(montant_valorise) AS montant_valorise, sum(cofinancement) AS cofinancement
FROM staging.tfpb_actions WHERE annee = $annee GROUP BY ALL;

CREATE OR REPLACE TEMP VIEW _bailleurs AS  -- one name shown per landlord: the first spelling of its declarations
SELECT territoire, cle_bailleur, min(bailleur) AS bailleur FROM staging.tfpb_patrimoine WHERE annee = $annee
GROUP BY ALL;

DELETE FROM marts.tfpb WHERE annee = $annee;
INSERT INTO marts.tfpb BY NAME
SELECT p.territoire, $annee AS annee, b.bailleur, p.code_qpv, p.nb_logements, p.montant_abattement,
       coalesce(a.montant_valorise, 0) AS montant_valorise, coalesce(a.cofinancement, 0) AS cofinancement,
       coalesce(a.actions, 0) AS actions,
       100 * coalesce(a.montant_valorise, 0) / nullif(p.montant_abattement, 0) AS taux_couverture,
       coalesce(a.montant_valorise, 0) < p.montant_abattement AS alerte_couverture
FROM staging.tfpb_patrimoine p
JOIN _bailleurs b USING (territoire, cle_bailleur)
LEFT JOIN (SELECT territoire, cle_bailleur, code_qpv, sum(actions) AS actions, sum(montant_valorise) AS montant_valorise,
                  sum(cofinancement) AS cofinancement FROM _actions GROUP BY ALL) a
       ON a.territoire = p.territoire AND a.code_qpv = p.code_qpv AND a.cle_bailleur = p.cle_bailleur
WHERE p.annee = $annee;

DELETE FROM marts.tfpb_axes WHERE annee = $annee;
INSERT INTO marts.tfpb_axes BY NAME
SELECT a.territoire, $annee AS annee, p.bailleur, a.code_qpv, a.axe, a.actions, a.montant_valorise, a.cofinancement
FROM _actions a
JOIN _bailleurs p USING (territoire, cle_bailleur);
