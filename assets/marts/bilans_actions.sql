-- Action reports seen by the bilan of $annee: the latest report of each dossier and action year among the inboxes
-- up to $annee (a later inbox's report replaces an earlier one). Reports on actions of $annee - 1 are complete;
-- those on $annee are partial (porteurs report after the action).
DELETE FROM marts.bilans_actions WHERE annee = $annee;
INSERT INTO marts.bilans_actions BY NAME
SELECT b.territoire, $annee AS annee, b.annee_action, b.numero_dossier, p.code_objectif, p.porteur,
       p.intitule_action, b.realisation, b.beneficiaires_total, b.beneficiaires_femmes, b.beneficiaires_hommes,
       b.beneficiaires_residents_qpv, b.beneficiaires_moins_26_ans, b.depenses_realisees,
       b.annee_action < $annee AS complet, b.fichier, b.ligne, b.annee_boite
FROM staging.bilans_actions b
LEFT JOIN (SELECT DISTINCT territoire, numero_dossier, annee, code_objectif, porteur, intitule_action
           FROM staging.programmation) p
       ON p.territoire = b.territoire AND p.numero_dossier = b.numero_dossier AND p.annee = b.annee_action
WHERE b.annee_boite <= $annee AND b.annee_action BETWEEN $annee - 1 AND $annee
QUALIFY row_number() OVER (PARTITION BY b.territoire, b.numero_dossier, b.annee_action
                           ORDER BY b.annee_boite DESC, b.fichier DESC, b.ligne DESC) = 1;
