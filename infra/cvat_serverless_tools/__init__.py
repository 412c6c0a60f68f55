"""Dev and ops tools around cvat_serverless, never shipped in a Lambda layer: the embedded runtime
(``local``: moto, the template deployer, the API Gateway adapter) and the ``cvat-serverless``
command (``admin``)."""
