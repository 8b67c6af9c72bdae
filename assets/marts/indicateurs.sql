-- Indicators known at $annee (inboxes up to $annee; a later inbox's row replaces an earlier one), per territory,
-- indicator and perimeter ('territoire' = all QPV of the contract, one QPV, or one quartier of the complementary
-- geography, whose rows never enter the contract's value), at the latest millésime, with the
-- previous millésime and the gaps to the department's QPV and the whole EPCI at the same millésime.
-- Rates are never summed: the territory's value is the published `qpv_epci` row, or Σ numerator / Σ denominator
-- when every QPV of the territory gives both; otherwise it is not computed.
-- Only the territory's own rows count: a `qpv_epci` row is the contract's value only under its own SIREN (staging
-- quarantines another territory's codes, rule hors_territoire; this keeps the mart right on its own).
CREATE OR REPLACE TEMP VIEW _ind AS
SELECT * FROM staging.indicateurs i WHERE annee_boite <= $annee
  AND (niveau_geo <> 'qpv' OR EXISTS (SELECT 1 FROM ref.qpv q WHERE q.territoire = i.territoire
                                      AND q.code_qpv = i.code_geo))
QUALIFY row_number() OVER (PARTITION BY territoire, code_indicateur, niveau_geo, code_geo, millesime
                           ORDER BY annee_boite DESC, fichier DESC, ligne DESC) = 1;

CREATE OR REPLACE TEMP VIEW _levels AS
WITH own AS (
    SELECT i.* FROM _ind i JOIN ref.territoires t USING (territoire)
    WHERE i.niveau_geo = 'qpv_epci' AND i.code_geo = t.siren_epci
), published AS (
    SELECT territoire, code_indicateur, millesime FROM own
), qpv_count AS (SELECT territoire, count(*) AS n FROM ref.qpv GROUP BY territoire),
computed AS (
    SELECT i.territoire, i.code_indicateur, 'territoire' AS perimetre, i.millesime,
           100 * sum(i.numerateur) / sum(i.denominateur) AS valeur, false AS secret, true AS calcule,
           'Σ numérateurs / Σ dénominateurs des QPV (' || min(i.source) || ')' AS source,
           min(i.unite) AS unite, min(i.libelle_indicateur) AS libelle_indicateur
    FROM _ind i JOIN qpv_count c USING (territoire)
    WHERE i.niveau_geo = 'qpv' AND i.unite = 'pourcentage'
      AND NOT EXISTS (SELECT 1 FROM published p WHERE p.territoire = i.territoire
                      AND p.code_indicateur = i.code_indicateur AND p.millesime = i.millesime)
    GROUP BY i.territoire, i.code_indicateur, i.millesime
    HAVING count(*) FILTER (WHERE i.numerateur IS NOT NULL AND i.denominateur > 0) = min(c.n)
)
SELECT territoire, code_indicateur, 'territoire' AS perimetre, millesime, valeur, coalesce(secret, false) AS secret,
       false AS calcule, source, unite, libelle_indicateur
FROM own
UNION ALL SELECT * FROM computed
UNION ALL
SELECT territoire, code_indicateur, code_geo, millesime, valeur, coalesce(secret, false), false, source, unite,
       libelle_indicateur
FROM _ind WHERE niveau_geo IN ('qpv', 'quartier_complementaire');

CREATE OR REPLACE TEMP VIEW _comparateurs AS
SELECT i.territoire, i.code_indicateur, i.millesime,
       max(i.valeur) FILTER (WHERE i.niveau_geo = 'qpv_departement' AND i.code_geo = t.departement) AS dep,
       max(i.valeur) FILTER (WHERE i.niveau_geo = 'epci' AND i.code_geo = t.siren_epci) AS epci
FROM _ind i JOIN ref.territoires t USING (territoire)
GROUP BY ALL;

DELETE FROM marts.indicateurs WHERE annee = $annee;
INSERT INTO marts.indicateurs BY NAME
WITH ranked AS (
    SELECT *, row_number() OVER (PARTITION BY territoire, code_indicateur, perimetre ORDER BY millesime DESC) AS rang
    FROM _levels
), latest AS (
    SELECT l.*, p.millesime AS millesime_precedent, p.valeur AS valeur_precedente
    FROM ranked l LEFT JOIN ranked p
      ON p.territoire = l.territoire AND p.code_indicateur = l.code_indicateur AND p.perimetre = l.perimetre
     AND p.rang = 2
    WHERE l.rang = 1
)
SELECT l.territoire, $annee AS annee, l.code_indicateur, l.libelle_indicateur, l.unite, l.perimetre, l.millesime,
       l.valeur, l.secret, l.calcule, l.source, l.millesime_precedent, l.valeur_precedente,
       CASE WHEN l.unite = 'nombre' THEN round(100 * (l.valeur / nullif(l.valeur_precedente, 0) - 1), 4)
            ELSE round(l.valeur - l.valeur_precedente, 4) END AS evolution,
       CASE WHEN l.valeur_precedente IS NULL THEN NULL WHEN l.unite = 'pourcentage' THEN 'points'
            WHEN l.unite = 'nombre' THEN '%' ELSE 'écart' END AS unite_evolution,
       c.dep AS valeur_qpv_departement, round(l.valeur - c.dep, 4) AS ecart_qpv_departement,
       c.epci AS valeur_epci, round(l.valeur - c.epci, 4) AS ecart_epci
FROM latest l
LEFT JOIN _comparateurs c USING (territoire, code_indicateur, millesime);
