"""Model code: the SageMaker inference handlers that infra/ packages, and the offline detector the
embedded runtime serves as a local SageMaker endpoint."""
