-- Commitments of $annee: each commitment (cle = the referential's codes, partenaire.indicateur) and the partners'
-- overall picture. A territory value summed from QPV lines says over how many QPV (engagement.qpv_renseignes of
-- engagement.qpv_engages): « partiel : 7 QPV sur 8 ».
-- Units: config/mesures.yaml; the target and achieved value of a commitment are in the commitment's own unit.
WITH e AS (SELECT * FROM marts.engagements WHERE annee = $annee),
c AS (SELECT * FROM e WHERE perimetre = 'territoire')
SELECT territoire, perimetre, cle, 'engagement.realise' AS code_mesure,
       valeur_realisee AS valeur, unite FROM e
UNION ALL
SELECT territoire, perimetre, cle, 'engagement.cible', valeur_cible, unite FROM e
UNION ALL
SELECT territoire, perimetre, cle, 'engagement.taux_realisation', taux_realisation,
       NULL FROM e
UNION ALL
SELECT territoire, perimetre, cle, 'engagement.qpv_engages', qpv_engages, NULL FROM c WHERE agregat <> 'ligne'
UNION ALL
SELECT territoire, perimetre, cle, 'engagement.qpv_renseignes', qpv_renseignes, NULL FROM c WHERE agregat <> 'ligne'
UNION ALL
SELECT territoire, 'territoire', NULL, 'engagements.nombre', count(*), NULL FROM c GROUP BY territoire
UNION ALL
SELECT territoire, 'territoire', NULL, 'engagements.non_renseignes', count(*) FILTER (WHERE non_renseigne), NULL
FROM c GROUP BY territoire
UNION ALL  -- mean of achievement rates, each capped at 100 % so one over-achiever does not hide a shortfall
SELECT territoire, 'territoire', NULL, 'engagements.taux_realisation_moyen', avg(least(taux_realisation, 100)), NULL
FROM c WHERE taux_realisation IS NOT NULL GROUP BY territoire
UNION ALL
SELECT territoire, 'territoire', NULL, 'engagements.montant_droit_commun', sum(montant_droit_commun), NULL
FROM e WHERE perimetre = 'territoire' GROUP BY territoire
UNION ALL
SELECT territoire, 'territoire', partenaire, 'engagements.montant_droit_commun', sum(montant_droit_commun), NULL
FROM e WHERE perimetre = 'territoire' AND montant_droit_commun IS NOT NULL GROUP BY ALL
UNION ALL
SELECT territoire, perimetre, NULL, 'engagements.montant_droit_commun', sum(montant_droit_commun), NULL
FROM e WHERE perimetre <> 'territoire' AND montant_droit_commun IS NOT NULL GROUP BY ALL
