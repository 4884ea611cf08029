"""The job queue: the job model, its files on disk, and (with masterd) the
scheduler that runs jobs through the processor."""
