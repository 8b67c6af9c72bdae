-- TFPB of $annee per landlord and QPV. The abatement is a per-QPV amount from `patrimoine`: it is joined to the
-- actions aggregated per landlord and QPV, never repeated per action row.
CREATE OR REPLACE TEMP VIEW _actions AS
SELECT territoire, lower(strip_accents(bailleur)) AS bailleur_cle, code_qpv, axe, count(*) AS actions,
       sum(montant_valorise) AS montant_valorise, sum(cofinancement) AS cofinancement
FROM staging.tfpb_actions WHERE annee = $annee GROUP BY ALL;

DELETE FROM marts.tfpb WHERE annee = $annee;
INSERT INTO marts.tfpb BY NAME
SELECT p.territoire, $annee AS annee, p.bailleur, p.code_qpv, p.nb_logements, p.montant_abattement,
       coalesce(a.montant_valorise, 0) AS montant_valorise, coalesce(a.cofinancement, 0) AS cofinancement,
       coalesce(a.actions, 0) AS actions,
       100 * coalesce(a.montant_valorise, 0) / nullif(p.montant_abattement, 0) AS taux_couverture,
       coalesce(a.montant_valorise, 0) < p.montant_abattement AS alerte_couverture
FROM staging.tfpb_patrimoine p
LEFT JOIN (SELECT territoire, bailleur_cle, code_qpv, sum(actions) AS actions, sum(montant_valorise) AS montant_valorise,
                  sum(cofinancement) AS cofinancement FROM _actions GROUP BY ALL) a
       ON a.territoire = p.territoire AND a.code_qpv = p.code_qpv AND a.bailleur_cle = lower(strip_accents(p.bailleur))
WHERE p.annee = $annee;

DELETE FROM marts.tfpb_axes WHERE annee = $annee;
INSERT INTO marts.tfpb_axes BY NAME
SELECT a.territoire, $annee AS annee, p.bailleur, a.code_qpv, a.axe, a.actions, a.montant_valorise, a.cofinancement
FROM _actions a
JOIN (SELECT DISTINCT territoire, bailleur, lower(strip_accents(bailleur)) AS bailleur_cle FROM staging.tfpb_patrimoine
      WHERE annee = $annee) p USING (territoire, bailleur_cle);
