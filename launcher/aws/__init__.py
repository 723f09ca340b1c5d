"""The standard-library AWS client: http, SigV4, endpoints and regions, the credential chain, S3 (get, list,
put, multipart) and the CodeArtifact call. Imported only by a job that needs it."""
