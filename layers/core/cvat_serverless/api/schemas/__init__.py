"""Request and response bodies in CVAT's shapes (field names, types, nullability and enums of
cvat-sdk 2.80's models; see ../../../../../shared/reference/cvat-api/appendix-sdk-models.md)."""
