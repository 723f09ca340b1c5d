"""Getting the job's code onto disk: the forms of sagemaker_submit_directory (S3, a folder, a tar, a file) and
their safe extraction. Imported only by a start that fetches."""
