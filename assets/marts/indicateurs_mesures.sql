-- Indicators at their latest millésime (annee_donnees = the millésime): value and gaps. Units: config/mesures.yaml
-- (the catalogue's unit of the indicator; a gap between percentages in points).
WITH i AS (SELECT * FROM marts.indicateurs WHERE annee = $annee)
SELECT territoire, perimetre, NULL AS cle, 'indicateur.' || code_indicateur AS code_mesure, valeur,
       millesime AS annee_donnees FROM i
UNION ALL
SELECT territoire, perimetre, NULL, 'indicateur.' || code_indicateur || '.ecart_qpv_departement', ecart_qpv_departement,
       millesime FROM i WHERE ecart_qpv_departement IS NOT NULL
UNION ALL
SELECT territoire, perimetre, NULL, 'indicateur.' || code_indicateur || '.ecart_epci', ecart_epci,
       millesime FROM i WHERE ecart_epci IS NOT NULL
