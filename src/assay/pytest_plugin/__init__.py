"""`pytest --assay`: record any pytest suite into Assay, and Assay's services as fixtures."""
