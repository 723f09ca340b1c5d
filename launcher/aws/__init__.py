"""The standard-library AWS client and the code fetch: credentials, SigV4, S3, CodeArtifact, and
sagemaker_submit_directory into the code dir. Imported only by a job that needs it."""
