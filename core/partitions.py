"""Programming years are the only partition: territories are a column of the data, and a run's scope among them is
its tag `bilan/territoires` (core/portee.py)."""

from dagster import StaticPartitionsDefinition

from core.config.projet import ProjectConfig

annee_partitions = StaticPartitionsDefinition([str(a) for a in ProjectConfig().settings.annees])
