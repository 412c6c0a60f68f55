"""Administration commands (`cvat-serverless ...`): the embedded runtime and deployed stacks."""
