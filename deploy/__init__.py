"""Deployment tools: the Lambda package, the SAM template's checks and the cost model
(docs/deploy.md)."""
