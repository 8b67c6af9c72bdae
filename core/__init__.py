"""The ground floor: the domain model (the configuration documents), the warehouse, the resources and the
helpers every stage uses. It imports none of the stages (assets/, checks/, reports/) nor the roof (pipelines/)."""
