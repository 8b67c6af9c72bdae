-- Programming of year $annee: one row per dossier, financeur and QPV, money shared between the targeted QPV by
-- their population (`TOUS` = every QPV of the territory). Only granted money counts (statut accorde); what was
-- paid is shared the same way, and stays empty where the file does not say it (not known is not 0).
CREATE OR REPLACE TEMP VIEW _prog AS
SELECT * FROM staging.programmation WHERE annee = $annee;

CREATE OR REPLACE TEMP VIEW _cibles AS
SELECT p.territoire, p.numero_dossier, p.financeur, q.code_qpv, q.population
FROM (SELECT DISTINCT territoire, numero_dossier, financeur, qpv_cibles FROM _prog) p,
     LATERAL (SELECT unnest(string_split(p.qpv_cibles, ';')) AS code) c
JOIN ref.qpv q ON q.territoire = p.territoire AND (q.code_qpv = c.code OR c.code = 'TOUS');

DELETE FROM marts.programmation WHERE annee = $annee;
INSERT INTO marts.programmation BY NAME
SELECT p.territoire, $annee AS annee, p.numero_dossier, p.porteur, p.intitule_action, p.code_objectif,
       substr(p.code_objectif, 4, 1) AS axe, p.mode_financement, p.reference_cpo, p.financeur, p.nature_credit,
       p.statut, c.code_qpv,
       c.population / sum(c.population) OVER (PARTITION BY p.territoire, p.numero_dossier, p.financeur) AS part_qpv,
       p.montant_demande * part_qpv AS montant_demande,
       coalesce(p.montant_accorde, 0) * part_qpv AS montant_accorde,
       p.montant_verse * part_qpv AS montant_verse, p.cpo_annee_debut, p.cpo_annee_fin,
       p.cout_total_action, p.qpv_cibles, p.fichier, p.ligne
FROM _prog p JOIN _cibles c USING (territoire, numero_dossier, financeur);
