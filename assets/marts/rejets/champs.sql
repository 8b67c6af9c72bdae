-- The fields of each row of `_lignes` that decide which measures it feeds (see mesures_rejets.sql), as temp tables:
-- `_champs` (the row's fields and amounts), `_cles` (each key kind it has, with its value), `_perimetres` (the
-- territory and each QPV it names, with its share). Run before the marts' transaction, not in it: DuckDB reads a
-- temp table made inside a transaction ≈ 10 × slower (1 M rows at 50 territories: 15.7 s → 1.7 s to attribute).
-- Input: the view `_lignes` (assets/marts/rejets.py).

CREATE OR REPLACE TEMP TABLE _champs AS
WITH l AS (SELECT row_number() OVER () AS id, * FROM _lignes),
f AS (
    SELECT l.*,
           nullif(upper(trim(donnees->>'code_objectif')), '') AS objectif,
           nullif(lower(trim(donnees->>'financeur')), '') AS financeur,
           nullif(trim(donnees->>'partenaire'), '') AS partenaire,
           nullif(trim(donnees->>'indicateur'), '') AS indicateur,
           nullif(trim(donnees->>'bailleur'), '') AS bailleur,
           -- the landlord key of staging (core.common.normalise_header, registered by assets/marts/rejets.py)
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
