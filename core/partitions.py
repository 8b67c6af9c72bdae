"""Programming years are the only partition: territories are a column of the data, not a partition."""

from dagster import StaticPartitionsDefinition

from core.config.projet import ProjectConfig

annee_partitions = StaticPartitionsDefinition([str(a) for a in ProjectConfig().settings.annees])
