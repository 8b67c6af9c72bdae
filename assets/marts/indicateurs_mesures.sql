-- Indicators at their latest millésime (annee_donnees = the millésime): value, gaps and change.
WITH i AS (SELECT * FROM marts.indicateurs WHERE annee = $annee)
SELECT territoire, perimetre, NULL AS cle, 'indicateur.' || code_indicateur AS code_mesure, valeur,
       unite, millesime AS annee_donnees FROM i
UNION ALL
SELECT territoire, perimetre, NULL, 'indicateur.' || code_indicateur || '.ecart_qpv_departement', ecart_qpv_departement,
       CASE unite WHEN 'pourcentage' THEN 'points' ELSE unite END, millesime FROM i WHERE ecart_qpv_departement IS NOT NULL
UNION ALL
SELECT territoire, perimetre, NULL, 'indicateur.' || code_indicateur || '.ecart_epci', ecart_epci,
       CASE unite WHEN 'pourcentage' THEN 'points' ELSE unite END, millesime FROM i WHERE ecart_epci IS NOT NULL
