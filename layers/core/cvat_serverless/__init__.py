"""cvat-serverless: a CVAT-compatible annotation platform made of AWS serverless parts."""

__version__ = "0.1.0"
