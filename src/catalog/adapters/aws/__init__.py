"""Adapters of the AWS deployment: DynamoDB (documents, history, outbox), S3, EventBridge.

Only the composition root creates boto3 clients (with clients.py) and passes them in.
"""
