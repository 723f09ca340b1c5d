"""Intermediate output: files closed under output/intermediate uploaded to S3 while the program runs (the
watcher tells what changed, the sync copies and uploads). Imported only by a job with sagemaker_s3_output."""
