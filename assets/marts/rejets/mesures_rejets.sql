-- Which measures each row of the year's files feeds, and what the quarantined rows would have changed.
--
-- Input: the view `_lignes` (territoire, famille, table_contrat, fichier, feuille, ligne, rejetee, donnees JSON):
-- every clean staging row and every quarantined row of $annee, as text (assets/marts/rejets.py builds it). A
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

CREATE OR REPLACE TEMP TABLE _champs AS
WITH l AS (SELECT row_number() OVER () AS id, * FROM _lignes),
f AS (
    SELECT l.*,
           nullif(upper(trim(donnees->>'code_objectif')), '') AS objectif,
           nullif(lower(trim(donnees->>'financeur')), '') AS financeur,
           nullif(trim(donnees->>'partenaire'), '') AS partenaire,
           nullif(trim(donnees->>'indicateur'), '') AS indicateur,
           nullif(trim(donnees->>'bailleur'), '') AS bailleur,
           -- the landlord key of staging (pipelines.common.normalise_header, registered by assets/marts/rejets.py)
           nullif(cle_normalisee(donnees->>'bailleur'), '') AS cle_bailleur,
           nullif(lower(trim(donnees->>'axe')), '') AS axe_tfpb,
           nullif(upper(trim(donnees->>'reference_cpo')), '') AS cpo,
           nullif(trim(donnees->>'numero_dossier'), '') AS dossier,
           nullif(lower(trim(donnees->>'nature_credit')), '') AS nature_credit,
           nullif(lower(trim(donnees->>'jalon')), '') AS jalon,
           nullif(lower(trim(donnees->>'code_indicateur')), '') AS code_indicateur,
           nullif(lower(trim(donnees->>'niveau_geo')), '') AS niveau_geo,
           upper(regexp_replace(coalesce(donnees->>'code_qpv', donnees->>'qpv_cibles',
                                         CASE WHEN lower(donnees->>'niveau_geo') = 'qpv' THEN donnees->>'code_geo' END,
                                         ''), '\s', '', 'g')) AS qpv_texte,
           -- the amount the row carries: what a money measure of its family sums; a rate of the programming or the
           -- TFPB is made of it too, a commitment's rate is not made of its common-law money
           coalesce(donnees->>'montant_accorde', donnees->>'montant_valorise',
                    donnees->>'montant_abattement') AS montant_taux_texte,
           coalesce(donnees->>'montant_accorde', donnees->>'montant_valorise', donnees->>'montant_abattement',
                    donnees->>'montant_droit_commun') AS montant_texte
    FROM l
)
SELECT * EXCLUDE (montant_texte, montant_taux_texte, m, mt),
       -- "1 200,00 €", "2034", "27 950,5": spaces, euro sign dropped; with a comma, dots are thousands
       TRY_CAST(CASE WHEN m LIKE '%,%' THEN replace(replace(m, '.', ''), ',', '.') ELSE m END AS DOUBLE) AS montant,
       TRY_CAST(CASE WHEN mt LIKE '%,%' THEN replace(replace(mt, '.', ''), ',', '.') ELSE mt END AS DOUBLE)
           AS montant_taux
FROM (SELECT *, regexp_replace(montant_texte, '[\s\x{00a0}\x{202f}€]', '', 'g') AS m,
             regexp_replace(montant_taux_texte, '[\s\x{00a0}\x{202f}€]', '', 'g') AS mt FROM f);

CREATE OR REPLACE TEMP TABLE _cles AS
SELECT id, 'aucune' AS sorte, NULL::VARCHAR AS valeur FROM _champs
UNION ALL SELECT id, 'objectif', objectif FROM _champs WHERE objectif IS NOT NULL
UNION ALL SELECT id, 'axe', 'axe ' || substr(objectif, 4, 1) FROM _champs WHERE regexp_matches(objectif, '^OG\.\d\.\d$')
UNION ALL SELECT id, 'financeur', financeur FROM _champs WHERE financeur IS NOT NULL
UNION ALL SELECT id, 'partenaire', partenaire FROM _champs WHERE partenaire IS NOT NULL
UNION ALL SELECT id, 'engagement', partenaire || ' — ' || indicateur FROM _champs
          WHERE partenaire IS NOT NULL AND indicateur IS NOT NULL
UNION ALL  -- a landlord as the TFPB mart names it: the first spelling of its key in the year's clean stock rows
SELECT c.id, 'bailleur', coalesce(n.nom, c.bailleur) FROM _champs c
LEFT JOIN (SELECT territoire, cle_bailleur, min(bailleur) AS nom FROM _champs
           WHERE table_contrat = 'tfpb_patrimoine' AND NOT rejetee GROUP BY ALL) n USING (territoire, cle_bailleur)
WHERE c.bailleur IS NOT NULL
UNION ALL SELECT id, 'axe_tfpb', axe_tfpb FROM _champs WHERE axe_tfpb IS NOT NULL
UNION ALL SELECT id, 'cpo', cpo FROM _champs WHERE cpo IS NOT NULL
UNION ALL SELECT id, 'dossier', dossier FROM _champs WHERE dossier IS NOT NULL;

-- a row naming several QPV (the programming) is shared between them by population, as the mart shares its money
CREATE OR REPLACE TEMP TABLE _perimetres AS
SELECT id, 'territoire' AS perimetre, 1.0 AS part FROM _champs WHERE niveau_geo IS DISTINCT FROM 'commune'
UNION ALL
SELECT c.id, q.code_qpv,
       coalesce(q.population / nullif(sum(q.population) OVER (PARTITION BY c.id), 0),
                1.0 / count(*) OVER (PARTITION BY c.id))
FROM _champs c
JOIN ref.qpv q ON q.territoire = c.territoire
WHERE c.niveau_geo IS DISTINCT FROM 'commune'
  AND (list_contains(string_split(c.qpv_texte, ';'), upper(q.code_qpv)) OR c.qpv_texte = 'TOUS');

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

DROP TABLE _perimetres;
DROP TABLE _cles;
DROP TABLE _champs
