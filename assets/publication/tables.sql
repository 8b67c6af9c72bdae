-- What each published table shows, from the cells' states after secrecy (secret.py). Temp tables read by tables.py.

-- A cell as shown: « < 5 », « secret statistique », or its value.
CREATE OR REPLACE TEMP TABLE _affichage AS
SELECT e.cellule, e.valeur, e.etat,
       CASE e.etat WHEN 'primaire' THEN p.primaire WHEN 'secondaire' THEN p.secondaire
                   ELSE CAST(CAST(e.valeur AS BIGINT) AS VARCHAR) END AS affichage
FROM _etat e, _parametres p;

CREATE OR REPLACE TEMP TABLE _jalons_affiches AS
SELECT j.territoire, j.reference_cpo, j.cohorte, j.jalon, j.dimension, j.modalite, j.colonne, a.valeur, a.etat,
       a.affichage
FROM _jalons_long j
JOIN _affichage a ON a.cellule = cellule_jalon(j.territoire, j.reference_cpo, j.cohorte, j.jalon, j.dimension,
                                               j.modalite, j.colonne);

-- The measures long table: a cohort count hidden like its cell; a cohort rate withheld when its denominator is
-- under the threshold or hidden, or its numerator hidden. `secret` is what is shown instead of the value.
CREATE OR REPLACE TEMP TABLE _mesures_publiees AS
WITH cohort AS (
    SELECT mc.territoire, mc.code_mesure, mc.perimetre, mc.cle,
           CASE WHEN NOT mc.est_taux THEN (CASE n.etat WHEN 'primaire' THEN p.primaire
                                                       WHEN 'secondaire' THEN p.secondaire END)
                WHEN mc.effectif < p.denominateur OR n.etat <> 'visible' OR coalesce(d.etat, 'visible') <> 'visible'
                THEN p.secondaire END AS secret
    FROM _mesures_comptes mc
    CROSS JOIN _parametres p
    JOIN _etat n ON n.cellule = mc.cellule
    LEFT JOIN _etat d ON d.cellule = cellule_mesure(mc.territoire, mc.niveau || '.observes_' || mc.jalon,
                                                    mc.perimetre, mc.cle)
)
SELECT m.* EXCLUDE (effectif) REPLACE (CASE WHEN c.secret IS NULL THEN m.valeur END AS valeur), c.secret
FROM referentiel.mesures m
LEFT JOIN cohort c ON c.territoire = m.territoire AND c.code_mesure = m.code_mesure AND c.perimetre = m.perimetre
                  AND c.cle IS NOT DISTINCT FROM m.cle
WHERE m.annee = $annee AND en_portee(m.territoire);

-- The referential as published: an indicator reads its measure as published, this year and the year before.
CREATE OR REPLACE TEMP TABLE _referentiel_publie AS
WITH published AS (
    SELECT annee, territoire, code_mesure, perimetre, cle, secret FROM _mesures_publiees
    UNION ALL
    SELECT annee, territoire, code_mesure, perimetre, cle, secret FROM _mesures_avant
)
SELECT r.* EXCLUDE (effectif) REPLACE (
    CASE WHEN now.secret IS NULL THEN r.valeur END AS valeur,
    CASE WHEN now.secret IS NULL THEN r.ecart_cible END AS ecart_cible,
    CASE WHEN now.secret IS NULL THEN r.projection_cible END AS projection_cible,
    CASE WHEN now.secret IS NULL AND before.secret IS NULL THEN r.tendance END AS tendance,
    CASE WHEN before.secret IS NULL THEN r.valeur_precedente END AS valeur_precedente,
    CASE WHEN now.secret IS NULL THEN r.statut ELSE 'secret statistique' END AS statut,
    CASE WHEN now.secret IS NULL THEN r.raison
         ELSE 'valeur non publiée : secret statistique (moins de ' || p.seuil || ' personnes, ou taux sur moins de '
              || p.denominateur || ' personnes)' END AS raison)
FROM referentiel.indicateurs r
CROSS JOIN _parametres p
LEFT JOIN published now ON now.annee = r.annee AND now.territoire = r.territoire AND now.code_mesure = r.mesure
                       AND now.perimetre = r.perimetre AND now.cle IS NOT DISTINCT FROM r.cle
LEFT JOIN published before ON before.annee = r.annee - 1 AND before.territoire = r.territoire
                          AND before.code_mesure = r.mesure AND before.perimetre = r.perimetre
                          AND before.cle IS NOT DISTINCT FROM r.cle
WHERE r.annee = $annee AND en_portee(r.territoire);
