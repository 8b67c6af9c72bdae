-- Programming of year $annee: one row per dossier, financeur and QPV, money shared between the targeted QPV by
-- their population (`TOUS` = every QPV of the territory). A quartier of the complementary geography (a poche de
-- pauvreté) takes its population share like a QPV, on a row whose `geographie` says what it is: the measures keep
-- those rows out of every QPV total. Only granted money counts (statut accorde); what was
-- paid is shared the same way, and stays empty where the file does not say it (not known is not 0).
CREATE OR REPLACE TEMP VIEW _prog AS
SELECT * FROM staging.programmation WHERE annee = $annee;

CREATE OR REPLACE TEMP VIEW _quartiers AS
SELECT territoire, code_qpv, population, 'qpv' AS geographie FROM ref.qpv
UNION ALL
SELECT territoire, code_quartier, population, type FROM ref.quartiers_complementaires;

CREATE OR REPLACE TEMP VIEW _cibles AS
SELECT p.territoire, p.numero_dossier, p.financeur, q.code_qpv, q.population, q.geographie
FROM (SELECT DISTINCT territoire, numero_dossier, financeur, qpv_cibles FROM _prog) p,
     LATERAL (SELECT unnest(string_split(p.qpv_cibles, ';')) AS code) c
JOIN _quartiers q ON q.territoire = p.territoire
 AND (q.code_qpv = c.code OR (c.code = 'TOUS' AND q.geographie = 'qpv'));

-- the transversal axes each dossier serves: its own (column axes_transversaux) and its objective's (referential)
CREATE OR REPLACE TEMP VIEW _transversaux AS
SELECT territoire, numero_dossier, string_agg(DISTINCT code, ';' ORDER BY code) AS axes_transversaux
FROM (
    SELECT territoire, numero_dossier, unnest(string_split(axes_transversaux, ';')) AS code
    FROM _prog WHERE axes_transversaux IS NOT NULL
    UNION ALL
    SELECT p.territoire, p.numero_dossier, o.code_transversal
    FROM _prog p JOIN ref.objectifs_transversaux o USING (territoire, code_objectif)
) GROUP BY ALL;

DELETE FROM marts.programmation WHERE annee = $annee;
INSERT INTO marts.programmation BY NAME
SELECT p.territoire, $annee AS annee, p.numero_dossier, p.porteur, p.intitule_action, p.code_objectif,
       substr(p.code_objectif, 4, 1) AS axe, p.mode_financement, p.reference_cpo, p.financeur, p.nature_credit,
       p.statut, c.code_qpv, c.geographie,
       c.population / sum(c.population) OVER (PARTITION BY p.territoire, p.numero_dossier, p.financeur) AS part_qpv,
       p.montant_demande * part_qpv AS montant_demande,
       coalesce(p.montant_accorde, 0) * part_qpv AS montant_accorde,
       p.montant_verse * part_qpv AS montant_verse, p.cpo_annee_debut, p.cpo_annee_fin,
       p.cout_total_action, p.qpv_cibles, x.axes_transversaux, p.fichier, p.ligne
FROM _prog p JOIN _cibles c USING (territoire, numero_dossier, financeur)
LEFT JOIN _transversaux x USING (territoire, numero_dossier);
