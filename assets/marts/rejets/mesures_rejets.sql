-- Which measures each row of the year's files feeds, and what the quarantined rows would have changed.
--
-- Input: the temp tables of champs.sql, built from the view `_lignes` (territoire, famille, table_contrat, fichier,
-- feuille, ligne, rejetee, donnees JSON): every clean staging row and every quarantined row of $annee, as text
-- (assets/marts/rejets.py builds it). Both marts' rows of the year are replaced in one transaction. A
-- quarantined row is read leniently: only the fields that decide which measure it feeds (QPV, keys, the term of a
-- generated measure) and its amount, French decimal comma and euro sign accepted.
--
-- A row feeds a measure of its family (ref.mesures, i.e. config/mesures.yaml) when the measure's term (nature of
-- credit, jalon, indicator) is the row's, or the row names none; for each key kind the measure accepts, at the row's
-- value of that key ('aucune': the measure without key); at the territory level always, and at each known QPV the
-- row names ('TOUS': every QPV of the territory). A row whose QPV is unknown or unreadable is thus attributed to
-- the territory-level measures only. Commune-level indicator rows feed no measure of the bilan. Two short lists
-- below say what the catalogue does not: the measures a table of the TFPB does not feed (an action is no stock),
-- and the measures over a subset of rows (BOP 147 only, dossiers for all QPV only). Money: the row's amount for a
-- measure in euros, and for a rate of the programming or the TFPB; a QPV gets its population share of it.
CREATE TABLE IF NOT EXISTS marts.lignes_mesures (
    territoire VARCHAR, annee INTEGER, famille VARCHAR, table_contrat VARCHAR, fichier VARCHAR, feuille VARCHAR,
    ligne INTEGER, rejetee BOOLEAN, code_mesure VARCHAR, perimetre VARCHAR, cle VARCHAR, montant DOUBLE);
CREATE TABLE IF NOT EXISTS marts.mesures_rejets (
    territoire VARCHAR, annee INTEGER, code_mesure VARCHAR, perimetre VARCHAR, cle VARCHAR, lignes_rejetees BIGINT,
    montant_rejete DOUBLE, lignes VARCHAR);

DELETE FROM marts.lignes_mesures WHERE annee = $annee;

INSERT INTO marts.lignes_mesures BY NAME
WITH non_alimentees(table_contrat, code) AS (  -- in a family of several tables, the measures a table does not feed
    VALUES ('tfpb_actions', 'tfpb.logements'), ('tfpb_actions', 'tfpb.abattement'),
           ('tfpb_actions', 'tfpb.abattement_par_logement'),
           ('tfpb_patrimoine', 'tfpb.valorise'), ('tfpb_patrimoine', 'tfpb.valorise_axe')
), restreintes(code, champ, valeur) AS (  -- measures over a subset of their family's rows
    VALUES ('prog.montant_bop147', 'financeur', 'etat_bop147'), ('prog.part_cpo_montant_bop147', 'financeur', 'etat_bop147'),
           ('prog.dossiers_tous_qpv', 'qpv', 'TOUS'), ('prog.montant_tous_qpv', 'qpv', 'TOUS')
), m AS (
    SELECT territoire, code, unite, famille, terme, unnest(string_split(cles, ', ')) AS sorte_cle,
           list_contains(string_split(perimetres, ', '), 'territoire') AS au_territoire,
           list_contains(string_split(perimetres, ', '), 'qpv') AS au_qpv
    FROM ref.mesures
)
SELECT c.territoire, $annee AS annee, c.famille, c.table_contrat, c.fichier, c.feuille, c.ligne, c.rejetee,
       m.code AS code_mesure, p.perimetre, k.valeur AS cle,
       p.part * CASE WHEN m.unite = 'euros' THEN c.montant
                     WHEN m.unite IN ('pourcentage', 'ratio') THEN c.montant_taux END AS montant
FROM _champs c
JOIN m ON m.territoire = c.territoire AND m.famille = c.famille
      AND (m.terme IS NULL
           OR m.terme IN (c.nature_credit, c.jalon, c.code_indicateur)
           OR coalesce(c.nature_credit, c.jalon, c.code_indicateur) IS NULL)
JOIN _cles k ON k.id = c.id AND k.sorte = m.sorte_cle
ANTI JOIN non_alimentees x ON x.table_contrat = c.table_contrat AND x.code = m.code
ANTI JOIN restreintes r ON r.code = m.code  -- an unreadable field does not rule a row out
      AND ((r.champ = 'financeur' AND c.financeur <> r.valeur) OR (r.champ = 'qpv' AND c.qpv_texte <> r.valeur))
JOIN _perimetres p ON p.id = c.id
      AND ((p.perimetre = 'territoire' AND m.au_territoire) OR (p.perimetre <> 'territoire' AND m.au_qpv));

DELETE FROM marts.mesures_rejets WHERE annee = $annee;

INSERT INTO marts.mesures_rejets BY NAME
SELECT territoire, annee, code_mesure, perimetre, cle, count(*) AS lignes_rejetees, sum(montant) AS montant_rejete,
       string_agg(fichier || ' (ligne ' || ligne || ')', ', ' ORDER BY fichier, ligne) AS lignes
FROM marts.lignes_mesures WHERE annee = $annee AND rejetee
GROUP BY ALL;
