"""S3 buckets as SageMaker jobs of any account see them: a bucket is found by name, whoever owns it.

Bucket names are global in S3, and a job in a stage account reads the orchestrator account's
assets bucket (its bucket policy allows it). moto keeps buckets per account, so a job's reads and
writes go through the backend of the bucket's owner (moto records owners in
``s3_backends.bucket_accounts``). Bucket policies are not evaluated (moto does not evaluate IAM).
"""

from __future__ import annotations

from typing import Any


def owner(s3: Any, bucket_name: str) -> Any:
    """The S3 backend holding ``bucket_name``: ``s3`` (the caller's) or the owning account's."""
    if bucket_name in s3.buckets:
        return s3
    from moto.s3.models import s3_backends

    found = s3_backends.bucket_accounts.get(bucket_name)
    if found is None:
        return s3
    partition, account_id = found
    return s3_backends[account_id][partition]


def find(s3: Any, bucket_name: str) -> Any | None:
    """The bucket, in whichever account it lives, or None."""
    return owner(s3, bucket_name).buckets.get(bucket_name)
