"""Adapters of the AWS deployment: DynamoDB (documents, history, outbox), S3, EventBridge.

Nothing here creates a boto3 client: the composition root builds them and passes them in.
"""
