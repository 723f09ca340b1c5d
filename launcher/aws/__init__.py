"""A small AWS client on the standard library: HTTP(S), SigV4, S3 downloads, credentials, CodeArtifact.

Imported only when a job needs it (an ``s3://`` submit directory, ``CA_REPOSITORY_ARN``), so a job with
baked-in code pays nothing for it."""
